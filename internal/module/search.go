package module

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/modules-service/modules/internal/derrors"
)

// A search pages through two indexes, one after the other: first the name
// guards whose key starts with UniqueKey(q), then the display-name guards
// that do, passing over a display-name guard whose module's name guard
// matches too (that module was shown with the names). Its cursor holds the
// index and the last guard key passed. A page reads at most limit+1 guards
// of each index and their modules, so it costs the same in a tenant of ten
// modules or of a million.
//
// So the modules found by name come first, in the order of their folded
// names, and then those found by display name only. A page of the second
// part can hold fewer than limit modules while more follow (none, when
// every display-name guard it reads belongs to a module found by name);
// its nextCursor goes on. Reading on until a page is full would make one
// page read the tenant's every module in the worst case.

// searchPosition is where a search stands: in the display-name index (or
// still in the name index) after the guard key After ("" at its start).
type searchPosition struct {
	Display bool   `json:"d,omitempty"`
	After   string `json:"a,omitempty"`
}

// search returns a page of the modules whose name or display name has a
// UniqueKey starting with prefix, from the position after (a cursor's
// content, "" for the first page), and the position of the next page
// ("" when none follows).
func (s *Service) search(ctx context.Context, tenantID, prefix, after string, limit int) ([]Module, string, error) {
	var pos searchPosition
	if after != "" && json.Unmarshal([]byte(after), &pos) != nil {
		return nil, "", derrors.Invalid(derrors.Field{Name: "cursor", Code: derrors.CodeInvalidValue, Reason: "is not a cursor of this list; pass the nextCursor of the previous page unchanged"})
	}
	var page []Module
	if !pos.Display {
		mods, last, more, err := s.found(ctx, tenantID, SortName, prefix, pos.After, limit)
		if err != nil {
			return nil, "", err
		}
		page = mods
		if more {
			return page, encode(searchPosition{After: last}), nil
		}
		pos = searchPosition{Display: true}
		if len(page) == limit {
			return page, encode(pos), nil
		}
	}
	mods, last, more, err := s.found(ctx, tenantID, SortDisplayName, prefix, pos.After, limit-len(page))
	if err != nil {
		return nil, "", err
	}
	for _, m := range mods {
		if name, _ := m.GuardKeys(); !strings.HasPrefix(name, prefix) {
			page = append(page, m) // not found by name
		}
	}
	if more {
		return page, encode(searchPosition{Display: true, After: last}), nil
	}
	return page, "", nil
}

// found reads up to limit guards of one index from after and their
// modules, in guard order, and returns them with the last guard key read
// and whether more guards follow. A guard whose module is gone (a delete
// in flight) is passed over.
func (s *Service) found(ctx context.Context, tenantID string, by Sort, prefix, after string, limit int) ([]Module, string, bool, error) {
	guards, more, err := s.Modules.FindGuards(ctx, tenantID, by, prefix, after, limit)
	if err != nil || len(guards) == 0 {
		return nil, after, more, err
	}
	ids := make([]string, len(guards))
	for i, g := range guards {
		ids[i] = g.ModuleID
	}
	mods, err := s.Modules.Modules(ctx, tenantID, ids)
	// A query longer than a long key's readable head (dynamo keeps a head
	// and a hash of keys past DynamoDB's 1,024 bytes) finds the guards that
	// share the head: keep the modules whose key starts with it whole.
	mods = slices.DeleteFunc(mods, func(m Module) bool {
		name, display := m.GuardKeys()
		if by == SortDisplayName {
			name = display
		}
		return !strings.HasPrefix(name, prefix)
	})
	return mods, guards[len(guards)-1].Key, more, err
}

func encode(p searchPosition) string {
	b, _ := json.Marshal(p) // a bool and a string: never fails
	return string(b)
}
