package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/notify"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// A receiver of the generic webhook checks each request's signature
// before trusting its body, and drops repeats by X-Custos-Delivery.
func ExampleVerifySignature() {
	secret := []byte("shared-secret-0123456789")
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		err = notify.VerifySignature(secret, r.Header.Get("X-Custos-Timestamp"), r.Header.Get("X-Custos-Signature"), body, time.Now(), 0)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if id := r.Header.Get("X-Custos-Delivery"); seen[id] {
			fmt.Println("repeat of", id, "dropped")
		} else {
			seen[id] = true
			fmt.Println("accepted", id)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	send := func(id string, body string, key []byte) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req := httptest.NewRequest(http.MethodPost, "/custos", strings.NewReader(body))
		req.Header.Set("X-Custos-Delivery", id)
		req.Header.Set("X-Custos-Timestamp", ts)
		req.Header.Set("X-Custos-Signature", notify.Sign(key, ts, []byte(body)))
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println(send("n1", `{"id":"n1"}`, secret))
	fmt.Println(send("n1", `{"id":"n1"}`, secret))
	fmt.Println(send("n2", `{"id":"n2"}`, []byte("not-the-secret")))
	// Output:
	// accepted n1
	// 204
	// repeat of n1 dropped
	// 204
	// 401
}

// A dispatcher sends what the service queued: here the notice of a saved
// report to a webhook channel.
func ExampleDispatcher() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "custos-example")
	defer os.RemoveAll(dir)
	st, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if _, err := bunstore.Migrate(ctx, st.DB()); err != nil {
		panic(err)
	}
	svc, err := backupmgmt.New(st, nil)
	if err != nil {
		panic(err)
	}

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("received", r.Header.Get("Content-Type"), "signed:", strings.HasPrefix(r.Header.Get("X-Custos-Signature"), "sha256="))
	}))
	defer hook.Close()
	_, err = svc.Channels().Create(ctx, backupmgmt.ChannelParams{
		Kind: store.ChannelWebhook, Name: "ops-hook",
		Settings: json.RawMessage(`{"url":"` + hook.URL + `","secret":"shared-secret-0123456789"}`),
	})
	if err != nil {
		panic(err)
	}
	now := svc.Now()
	rep := &store.Report{Type: store.ReportDaily, Format: store.FormatCSV, Content: []byte("job,runs\nerp,3\n"), PeriodFrom: now.Add(-24 * time.Hour), PeriodTo: now}
	if err := svc.Reports().Save(ctx, rep); err != nil {
		panic(err)
	}
	if _, err := svc.Channels().QueueReport(ctx, rep, "Daily report", "3 runs"); err != nil {
		panic(err)
	}

	d := notify.New(svc, nil)
	res, err := d.RunOnce(ctx)
	fmt.Printf("%+v %v\n", res, err)
	// Output:
	// received application/json signed: true
	// {Claimed:1 Sent:1 Failed:0 Dead:0} <nil>
}
