package module

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/modules-service/modules/internal/derrors"
)

// A search pages through two indexes at once, the name guards and the
// display-name guards whose key starts with UniqueKey(q), merged in key
// order; its cursor holds its place in each. A page reads at most limit+2
// guards of each kind and the modules of those it passes, so it costs the
// same in a tenant of ten modules or of a million.
//
// A module both of whose names match is shown once, at its name guard: a
// display-name guard is passed over when its module's name guard matches
// too. So a page can hold fewer than limit modules while more follow (in
// the worst case none, when every display-name guard it reads belongs to
// a module shown by name on a later page); its nextCursor goes on.

// searchPosition is where a search stands: the last guard key passed in
// each index, and which index is read to its end.
type searchPosition struct {
	Name        string `json:"n,omitempty"`
	Display     string `json:"d,omitempty"`
	NameDone    bool   `json:"nd,omitempty"`
	DisplayDone bool   `json:"dd,omitempty"`
}

// found is one guard met by a search, of index 0 (names) or 1 (display names).
type found struct {
	Guard
	index int
}

// compareFound orders guards by key, and a name guard before a
// display-name guard of the same key.
func compareFound(f, g found) int {
	return cmp.Or(strings.Compare(f.Key, g.Key), cmp.Compare(f.index, g.index))
}

// search returns a page of the modules whose name or display name has a
// UniqueKey starting with prefix, from the position after (a cursor's
// content, "" for the first page), and the position of the next page
// ("" when none follows).
func (s *Service) search(ctx context.Context, tenantID, prefix, after string, limit int) ([]Module, string, error) {
	var pos searchPosition
	if after != "" && json.Unmarshal([]byte(after), &pos) != nil {
		return nil, "", derrors.Invalid(derrors.Field{Name: "cursor", Reason: "is not a cursor of this list; pass the nextCursor of the previous page unchanged"})
	}
	streams := [2]struct {
		by    Sort
		after *string
		done  *bool
		got   []Guard
		more  bool
	}{{by: SortName, after: &pos.Name, done: &pos.NameDone}, {by: SortDisplayName, after: &pos.Display, done: &pos.DisplayDone}}
	var merged []found
	for i := range streams {
		st := &streams[i]
		if *st.done {
			continue
		}
		var err error
		// limit+1: the guard after a full page's last, so that the other
		// index's guards up to it can be placed
		if st.got, st.more, err = s.Store.FindGuards(ctx, tenantID, st.by, prefix, *st.after, limit+1); err != nil {
			return nil, "", err
		}
		for _, g := range st.got {
			merged = append(merged, found{g, i})
		}
	}
	// Only guards up to the last one read of an index with more to read
	// are in their place: that index's next guard may come before the rest.
	safe := merged[:0]
	for _, f := range merged {
		ok := true
		for i, st := range streams {
			if st.more && compareFound(found{st.got[len(st.got)-1], i}, f) < 0 {
				ok = false
			}
		}
		if ok {
			safe = append(safe, f)
		}
	}
	merged = safe
	slices.SortFunc(merged, compareFound)
	ids := make([]string, 0, len(merged))
	for _, f := range merged {
		ids = append(ids, f.ModuleID)
	}
	mods, err := s.Store.Modules(ctx, tenantID, dedupe(ids))
	if err != nil {
		return nil, "", err
	}
	byID := make(map[string]Module, len(mods))
	for _, m := range mods {
		byID[m.ID] = m
	}
	var page []Module
	shown := map[string]bool{}
	for _, f := range merged {
		if len(page) == limit {
			break
		}
		*streams[f.index].after = f.Key
		m, ok := byID[f.ModuleID]
		if !ok || shown[m.ID] {
			continue // deleted since (a delete in flight), or met twice
		}
		if name, _ := m.GuardKeys(); f.index == 1 && strings.HasPrefix(name, prefix) {
			continue // shown at its name guard
		}
		shown[m.ID] = true
		page = append(page, m)
	}
	for _, st := range streams {
		*st.done = *st.done || !st.more && (len(st.got) == 0 || *st.after == st.got[len(st.got)-1].Key)
	}
	if pos.NameDone && pos.DisplayDone {
		return page, "", nil
	}
	next, _ := json.Marshal(pos) // strings and booleans: never fails
	return page, string(next), nil
}

// dedupe returns ids without repeats, in the order they first appear.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
