/** The package's public surface for embedding and for the Node client. */
export { loadSettings, type Settings } from '../config/settings';
export { Service, type ServiceOptions } from './service';
export * from '../src/alert/schema';
export * from '../src/protocol/frames';
export {
  AlertStream,
  StreamCredentialError,
  FlashwireApi,
  FlashwireApiError,
  type AlertStreamOptions,
  type StreamEvent,
  type StreamState,
  type AlertDraft,
  type FeedPage,
  type ProblemDocument,
} from '../clients/node/src';
