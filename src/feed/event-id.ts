/**
 * The service's name for the one eventId module. Checking and comparing ids
 * is shared with the clients, and the client package may import nothing of
 * the service, so the module lives there and the service imports it.
 */
export { EVENT_ID_PATTERN, ZERO_EVENT_ID, compareEventIds, eventTime, isEventId } from '../../clients/node/src/event-id';
