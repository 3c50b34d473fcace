package httpapi

func (a *API) auditRoutes() []*route { return nil }
