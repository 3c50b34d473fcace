package httpapi

func (a *API) alertRoutes() []*route { return nil }
