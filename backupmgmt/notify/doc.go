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
// Messages queued for an inactive channel are dead ("channel is
// inactive") on purpose: deactivating mutes a channel, and reactivating it
// must not flood it with stale alerts.
//
// Channel destinations (SMTP relays, webhook URLs) are configured by
// admins, and the error of a test send echoes the remote's reply to them;
// it is not for other users.
//
// Receivers of the generic webhook check its signature with
// VerifySignature.
package notify
