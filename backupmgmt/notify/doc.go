// Package notify delivers the notification outbox (DESIGN §11): a
// Dispatcher claims due rows with a lease, sends each on its channel (SMTP
// email, Slack, Microsoft Teams, or a signed JSON webhook), and records the
// outcome with backoff, so that every message goes out at least once and
// carries its notification ID as an idempotency key for receivers to drop
// repeats.
//
// Channel settings hold secrets (an SMTP password, a webhook URL that is
// itself a credential, an HMAC key); they never appear in a stored error,
// a log line or an error returned by Test.
//
// Receivers of the generic webhook check its signature with
// VerifySignature.
package notify
