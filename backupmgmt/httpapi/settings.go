package httpapi

func (a *API) settingsRoutes() []*route { return nil }
