/**
 * The shapes the service sends and accepts, as plain types: the client has
 * no dependency on the server's code. A type test in the service's own
 * suite keeps them in step with the server's schemas.
 */

export type Priority = 'flash' | 'bulletin' | 'urgent' | 'routine';
export type AlertStatus = 'scheduled' | 'queued' | 'sent' | 'retracted' | 'expired' | 'failed' | 'pending_approval' | 'rejected';

/** The alert as readers receive it inside `alert` and `update` frames. */
export interface AlertPayload {
  id: string;
  headline: string;
  summary?: string;
  url?: string;
  topics: string[];
  priority: Priority;
  createdAt: string;
  sentAt?: string;
  updatedAt?: string;
  expiresAt?: string;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** How fast the alert reached the readers connected at send: ms until 50/90/99% had it (null when nobody was connected). */
export interface Reach {
  readersAtSend: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}

/** The delivery report, summed over every gateway. */
export interface DeliveryReport {
  acceptedAt: string;
  sentAt: string | null;
  deliveries: number;
  feedToLastWriteMs: LatencySummary | null;
  receipts: number;
  /** Null until a gateway reported. */
  reach: Reach | null;
}

export interface AuditEntry {
  action: 'created' | 'corrected' | 'retracted' | 'approved' | 'rejected' | 'failed';
  by: string;
  at: string;
  fields?: string[];
  reason?: string;
}

/** The alert as the API returns it. */
export interface AlertResource extends AlertPayload {
  status: AlertStatus;
  sendAt?: string;
  eventId?: string;
  publishedBy: string;
  retraction?: { reason: string; at: string; by: string };
  /** Set once rejected: by a second editor, or `approval timed out`. */
  rejection?: { reason: string; at: string; by: string };
  audit: AuditEntry[];
  report: DeliveryReport;
}

/** What may be posted. */
export interface AlertDraft {
  headline: string;
  summary?: string;
  url?: string;
  topics: string[];
  priority?: Priority;
  sendAt?: string;
  expiresAt?: string;
}

/** A correction: headline, summary or url; `null` clears summary or url. */
export interface AlertPatch {
  headline?: string;
  summary?: string | null;
  url?: string | null;
}

export interface AlertFrame {
  type: 'alert';
  eventId: string;
  alert: AlertPayload;
}
export interface UpdateFrame {
  type: 'update';
  eventId: string;
  alert: AlertPayload;
}
export interface RetractFrame {
  type: 'retract';
  eventId: string;
  id: string;
  reason: string;
}
/** The frames that carry feed events (and an eventId). */
export type EventFrame = AlertFrame | UpdateFrame | RetractFrame;

/** `since` could not be honoured; the stream carries on live from the feed's end. */
export interface ResyncFrame {
  type: 'resync';
  reason: string;
}

export interface WelcomeFrame {
  type: 'welcome';
  connectionId: string;
  heartbeatMs: number;
  topics: string[];
  resumed: boolean;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}
