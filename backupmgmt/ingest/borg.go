package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// borg reads the JSON of `borg create --json` (one archive under
// "archive") or `borg info --json` (archives under "archives"), as borg's
// "All about JSON: How to develop frontends" documents
// (docs/internals/frontends.rst, "Archive formats"): name, id, start, end
// and stats {original_size, compressed_size, deduplicated_size, nfiles}.
//
// borg writes times "according to ISO-8601 in local time", without a zone
// (2017-08-07T12:27:20, microseconds since 1.2); such times are read in
// Options.Location (UTC by default), and a time with an offset keeps it.
// borg prints this JSON only when it wrote the archive, and its return code
// (1 for warnings) is not in it: every archive is a success. A sender that
// saw rc 1 or 2 reports it through the ping URL or the JSON API instead.
// Field mapping: id → RunID and SnapshotID, stats.original_size →
// SizeBytes, stats.nfiles → Files.

type borgReport struct {
	Archive  *borgArchive    `json:"archive"`
	Archives json.RawMessage `json:"archives"`
}

type borgArchive struct {
	Name  string  `json:"name"`
	ID    string  `json:"id"`
	Start *string `json:"start"`
	End   *string `json:"end"`
	Stats *struct {
		OriginalSize     int64 `json:"original_size"`
		CompressedSize   int64 `json:"compressed_size"`
		DeduplicatedSize int64 `json:"deduplicated_size"`
		NFiles           int64 `json:"nfiles"`
	} `json:"stats"`
}

func parseBorg(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	var rep borgReport
	if err := decodeJSON(data, "", &rep); err != nil {
		return nil, err
	}
	var archives []borgArchive
	if raw := bytes.TrimSpace(rep.Archives); rep.Archive == nil && len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		var err error
		if archives, err = decodeArray[borgArchive](raw, "archives"); err != nil {
			return nil, err
		}
	}
	type item struct {
		at string
		a  borgArchive
	}
	var items []item
	switch {
	case rep.Archive != nil:
		items = append(items, item{"archive", *rep.Archive})
	case len(archives) > 0:
		for i, a := range archives {
			items = append(items, item{index("archives", i), a})
		}
	default:
		return nil, &ParseError{Field: "archive", Message: "required (the output of borg create --json)"}
	}
	runs := make([]backupmgmt.RecordParams, 0, len(items))
	for _, it := range items {
		p, err := borgRun(it.at, it.a, o)
		if err != nil {
			return nil, err
		}
		runs = append(runs, p)
	}
	return runs, nil
}

func borgRun(at string, a borgArchive, o Options) (backupmgmt.RecordParams, error) {
	id, err := key(join(at, "id"), a.ID)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if a.Start == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "start"), Message: "required"}
	}
	start, err := parseTime(join(at, "start"), *a.Start, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if a.End == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "end"), Message: "required (the output of borg create or borg info)"}
	}
	end, err := parseTime(join(at, "end"), *a.End, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if a.Stats == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "stats"), Message: "required"}
	}
	st := a.Stats
	for field, n := range map[string]int64{"original_size": st.OriginalSize, "compressed_size": st.CompressedSize, "deduplicated_size": st.DeduplicatedSize, "nfiles": st.NFiles} {
		if err := count(join(at, "stats."+field), n); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	p := backupmgmt.RecordParams{
		RunID: id, SnapshotID: id, Status: store.ExecutionSuccess, StartedAt: start,
		SizeBytes: st.OriginalSize, Files: st.NFiles,
	}
	if err := finish(&p, end, join(at, "end")); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	name := a.Name
	if name == "" {
		name = shortID(id)
	}
	p.Message = fmt.Sprintf("borg archive %s: %s, %s original, %s deduplicated", clip(name, 200), plural(st.NFiles, "file", "files"), humanBytes(st.OriginalSize), humanBytes(st.DeduplicatedSize))
	return p, nil
}
