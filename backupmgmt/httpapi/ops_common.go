package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/custos-dev/custos/backupmgmt"
)

// decodeOptionalJSON is decodeJSON for action routes whose body is optional
// (acknowledge, resolve, retire): an empty body means every field absent, so
// that `curl -X POST .../acknowledge` works; anything else is decoded
// strictly.
func decodeOptionalJSON(r *http.Request, v any) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "invalid_body", "reading the request body failed")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return unmarshalStrict(body, v)
}

// mediaStateErrors are the media sentinels errors.go does not map (yet):
// states of a medium that refuse an operation are conflicts, not 500s.
var mediaStateErrors = []struct {
	err     error
	code    string
	message string
}{
	{backupmgmt.ErrMediaNotLent, "media_not_lent", "the medium has no open lending"},
	{backupmgmt.ErrMediaRetired, "media_retired", "the medium is retired"},
	{backupmgmt.ErrMediaLent, "media_lent", "the medium is lent; return it first"},
}

// mediaErr maps the media state errors to 409 and passes the rest through.
func mediaErr(err error) error {
	for _, m := range mediaStateErrors {
		if errors.Is(err, m.err) {
			return errorf(http.StatusConflict, m.code, "%s", m.message)
		}
	}
	return err
}
