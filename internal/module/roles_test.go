package module_test

import (
	"testing"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestEachFlowUsesOnlyItsRoles: every flow runs on a service given only
// the storage roles it declares (module.Stores); one that reached for
// another role would meet a nil interface and panic. So a function can be
// built with the roles of its flows and nothing else (wiring.ReadService).
func TestEachFlowUsesOnlyItsRoles(t *testing.T) {
	b := testenv.Embedded(t)
	ctx := t.Context()
	full := b.Service()
	st := b.Store()
	manager, err := full.CreateManager(ctx, "acme", "", "")
	if err != nil {
		t.Fatal(err)
	}
	with := func(roles module.Stores) *module.Service {
		s := b.Service()
		s.Stores = roles
		return s
	}
	var created module.Module
	for _, tc := range []struct {
		name  string
		roles module.Stores
		run   func(s *module.Service) error
	}{
		{"create (idempotent)", module.Stores{Modules: st, Writes: st, Idempotency: st, Pending: st}, func(s *module.Service) error {
			c, _, err := s.Create(ctx, "acme", input("billing", "Billing"), "key-1")
			created = c.Module
			if err == nil {
				_, _, err = s.Create(ctx, "acme", input("billing", "Billing"), "key-1") // the replay
			}
			return err
		}},
		{"dry run", module.Stores{Writes: st}, func(s *module.Service) error {
			_, err := s.Validate(ctx, "acme", input("orders", "Orders"))
			return err
		}},
		{"get", module.Stores{Modules: st}, func(s *module.Service) error {
			_, err := s.Get(ctx, "acme", created.ID)
			return err
		}},
		{"list, sorted and searched", module.Stores{Modules: st, Cursors: st}, func(s *module.Service) error {
			for _, q := range []module.ListQuery{{Limit: 1}, {Limit: 1, Sort: module.SortName}, {Limit: 1, Q: "bil"}} {
				if _, err := s.List(ctx, "acme", q); err != nil {
					return err
				}
			}
			return nil
		}},
		{"trail", module.Stores{Trail: st, Cursors: st}, func(s *module.Service) error {
			_, err := s.Events(ctx, "acme", module.EventQuery{Limit: 1})
			return err
		}},
		{"update, the last-manager check included", module.Stores{Modules: st, Writes: st}, func(s *module.Service) error {
			if _, err := s.Update(ctx, "acme", created.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
				return err
			}
			_, err := s.Update(ctx, "acme", manager.Module.ID, module.Patch{"enabled": []byte("false")}, 0)
			if err == nil {
				t.Error("the last manager was disabled")
			}
			return nil // 409, as it should: the check ran on its roles
		}},
		{"migration", module.Stores{Migration: st, Writes: st}, func(s *module.Service) error {
			_, _, err := s.MigrateGuards(ctx)
			return err
		}},
		{"delete", module.Stores{Modules: st, Writes: st}, func(s *module.Service) error {
			return s.Delete(ctx, "acme", created.ID, 0)
		}},
		{"reaper", module.Stores{Modules: st, Pending: st}, func(s *module.Service) error {
			_, err := s.Reap(ctx)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(with(tc.roles)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
