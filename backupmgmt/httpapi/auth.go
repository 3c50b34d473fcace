package httpapi

func (a *API) authRoutes() []*route { return nil }
