package httpapi

func (a *API) dashboardRoutes() []*route { return nil }
