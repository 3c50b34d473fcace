package httpapi

func (a *API) apiKeyRoutes() []*route { return nil }
