package httpapi

func (a *API) complianceRoutes() []*route { return nil }
