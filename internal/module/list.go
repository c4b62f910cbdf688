package module

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/modules-service/modules/internal/derrors"
)

// Sort is the order of a list.
type Sort string

// The orders a list can take. Names sort as they are compared for
// uniqueness (UniqueKey), so "billing" and "Billing" sort together.
const (
	SortCreated     Sort = "createdAt" // creation order (module IDs), the default
	SortName        Sort = "name"
	SortDisplayName Sort = "displayName"
)

// MaxQuery is the longest search prefix accepted, in characters.
const MaxQuery = DisplayNameMax

// Reader is the module reads: one module by ID (every flow's first read,
// and a write's read back), and the pages of list and search.
type Reader interface {
	// Get returns the module, or derrors.ErrNotFound when the tenant has none
	// with that ID.
	Get(ctx context.Context, tenantID, id string) (Module, error)
	// List returns up to limit modules of the tenant whose IDs follow after,
	// in ID order (which is creation order), and whether more follow.
	List(ctx context.Context, tenantID, after string, limit int) (items []Module, more bool, err error)
	// ListBy returns up to limit modules of the tenant sorted by
	// SortKey(Name) (SortName) or SortKey(DisplayName) (SortDisplayName)
	// and ID, those whose position ("<sort key> <id>") follows after,
	// and whether more follow.
	ListBy(ctx context.Context, tenantID string, by Sort, after string, limit int) (items []Module, more bool, err error)
	// FindGuards returns up to limit guards of the tenant, of names
	// (SortName) or display names (SortDisplayName), whose key starts with
	// prefix and follows after (when set), in key order, and whether more
	// follow.
	FindGuards(ctx context.Context, tenantID string, by Sort, prefix, after string, limit int) (guards []Guard, more bool, err error)
	// Modules returns the tenant's modules of ids, in the order of ids,
	// leaving out those that do not exist.
	Modules(ctx context.Context, tenantID string, ids []string) ([]Module, error)
}

// ListQuery selects a page of a tenant's modules.
type ListQuery struct {
	Cursor string // the NextCursor of the previous page, or ""
	Limit  int    // 1..MaxLimit
	// Q, when not empty, keeps the modules whose name or display name
	// starts with it, both compared as for uniqueness, in the order of
	// the UniqueKey they matched (not Sort).
	Q    string
	Sort Sort // "" is SortCreated
}

// List returns a page of a tenant's modules.
//
// Without Q a page reads one page of the table: module items for creation
// order, or the order items the table keeps per module and name (sorted by
// SortKey) and then the modules they point to. With Q it reads the name
// and display-name guard items whose UniqueKey starts with UniqueKey(Q),
// a page of them at a time, and the modules they point to: a page costs
// what it shows, not what the tenant has (search.go).
func (s *Service) List(ctx context.Context, tenantID string, q ListQuery) (Page, error) {
	if err := CheckTenantID(tenantID); err != nil {
		return Page{}, err
	}
	var bad []derrors.Field
	if q.Limit < 1 || q.Limit > MaxLimit {
		bad = append(bad, derrors.Field{Name: "limit", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("must be between 1 and %d", MaxLimit)})
	}
	if q.Sort == "" {
		q.Sort = SortCreated
	}
	if !slices.Contains([]Sort{SortCreated, SortName, SortDisplayName}, q.Sort) {
		bad = append(bad, derrors.Field{Name: "sort", Code: derrors.CodeInvalidValue, Reason: "must be name, displayName or createdAt"})
	}
	if n := utf8.RuneCountInString(q.Q); n > MaxQuery || !utf8.ValidString(q.Q) {
		bad = append(bad, derrors.Field{Name: "q", Code: derrors.CodeTooLong, Reason: fmt.Sprintf("must be at most %d characters", MaxQuery)})
	}
	if len(bad) > 0 {
		return Page{}, derrors.Invalid(bad...)
	}
	key, err := s.listKey(ctx)
	if err != nil {
		return Page{}, err
	}
	prefix := UniqueKey(q.Q)
	scope := string(q.Sort) + "\x00" + prefix // a cursor is good for its own list only
	after := ""
	if q.Cursor != "" {
		if after, err = openCursor(key, tenantID+"\x00"+scope, q.Cursor); err != nil {
			return Page{}, err
		}
	}
	if prefix != "" {
		// A search's items come in the order of the folded names they
		// matched (search.go), whatever q.Sort says; the cursor is
		// still bound to q.Sort, as every list's is.
		items, next, err := s.search(ctx, tenantID, prefix, after, q.Limit)
		if err != nil {
			return Page{}, fmt.Errorf("search modules of %s: %w", tenantID, err)
		}
		page := Page{Items: items}
		if page.Items == nil {
			page.Items = []Module{}
		}
		if next != "" {
			page.NextCursor = sealCursor(key, tenantID+"\x00"+scope, next)
		}
		return page, nil
	}
	var items []Module
	var more bool
	if q.Sort == SortCreated {
		items, more, err = s.Modules.List(ctx, tenantID, after, q.Limit)
	} else {
		items, more, err = s.Modules.ListBy(ctx, tenantID, q.Sort, after, q.Limit)
	}
	if err != nil {
		return Page{}, fmt.Errorf("list modules of %s: %w", tenantID, err)
	}
	page := Page{Items: items}
	if page.Items == nil {
		page.Items = []Module{}
	}
	if more && len(items) > 0 {
		last := items[len(items)-1]
		page.NextCursor = sealCursor(key, tenantID+"\x00"+scope, Position(last, q.Sort))
	}
	return page, nil
}

// Position is where m stands in a list sorted by (what a cursor and an
// order item's key hold): its ID in creation order, else its SortKey and ID (names are unique by UniqueKey, not by
// SortKey, so the ID breaks ties).
func Position(m Module, by Sort) string {
	switch by {
	case SortName:
		return SortKey(m.Name) + positionSep + m.ID
	case SortDisplayName:
		return SortKey(m.DisplayName) + positionSep + m.ID
	}
	return m.ID
}

// positionSep separates a SortKey from the ID in a position. A space sorts
// below every letter, digit and most punctuation, so "ab" comes before "ab
// c"; it is not a control character, which a DynamoDB key might refuse.
const positionSep = " "

// SortKey is the form in which names sort: NFKC and case folded, so
// "billing" and "Billing" sort together and fullwidth letters among their
// plain forms. Not UniqueKey, whose confusable skeleton would sort "mid"
// as "rnid" and "client" as "dient".
func SortKey(s string) string {
	return strings.Join(strings.Fields(folder.String(norm.NFKC.String(s))), " ")
}
