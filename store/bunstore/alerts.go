package bunstore

import "github.com/custos-dev/custos/store"

// Placeholder: replaced by the real repositories.
type alertRepo struct {
	*conn
	store.AlertStore
}
type channelRepo struct {
	*conn
	store.ChannelStore
}
type notificationRepo struct {
	*conn
	store.NotificationStore
}
type reportRepo struct {
	*conn
	store.ReportStore
}
