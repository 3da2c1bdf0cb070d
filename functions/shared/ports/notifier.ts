export interface Notification {
  to: string[];
  subject: string;
  text: string;
  html?: string;
}

/** Sends mail to people (SES on AWS, the outbox locally). */
export interface Notifier {
  send(message: Notification): Promise<void>;
}
