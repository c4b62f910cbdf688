// Package inmem keeps secrets in process memory: the secret store of the
// local gateway's embedded mode and of unit tests.
package inmem

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// Secrets implements module.SecretStore in memory.
type Secrets struct {
	mu      sync.Mutex
	secrets map[string]entry
}

type entry struct {
	value string
	meta  module.StoredSecret
}

var _ module.SecretStore = (*Secrets)(nil)

// Put implements module.SecretStore.
func (s *Secrets) Put(_ context.Context, name, value string, tags map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]entry{}
	}
	if _, ok := s.secrets[name]; ok {
		return fmt.Errorf("put secret %s: %w", name, module.ErrSecretExists)
	}
	t := make(map[string]string, len(tags))
	for k, v := range tags {
		t[k] = v
	}
	s.secrets[name] = entry{value, module.StoredSecret{Name: name, Tags: t, CreatedAt: time.Now()}}
	return nil
}

// Delete implements module.SecretStore; deletion is immediate here.
func (s *Secrets) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, name)
	return nil
}

// List implements module.SecretStore.
func (s *Secrets) List(_ context.Context, prefix string) ([]module.StoredSecret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []module.StoredSecret
	for name, e := range s.secrets {
		if strings.HasPrefix(name, prefix) {
			out = append(out, e.meta)
		}
	}
	return out, nil
}

// Get returns a secret's value, or derrors.ErrNotFound.
func (s *Secrets) Get(_ context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.secrets[name]
	if !ok {
		return "", derrors.ErrNotFound
	}
	return e.value, nil
}

// Snapshot is the persistent form of the store (the local gateway's data
// directory).
type Snapshot map[string]SnapshotEntry

// SnapshotEntry is one secret of a Snapshot.
type SnapshotEntry struct {
	Value     string            `json:"value"`
	Tags      map[string]string `json:"tags"`
	CreatedAt time.Time         `json:"createdAt"`
}

// Export returns every secret.
func (s *Secrets) Export() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Snapshot{}
	for name, e := range s.secrets {
		out[name] = SnapshotEntry{Value: e.value, Tags: e.meta.Tags, CreatedAt: e.meta.CreatedAt}
	}
	return out
}

// Import adds every secret of snap.
func (s *Secrets) Import(snap Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]entry{}
	}
	for name, e := range snap {
		s.secrets[name] = entry{e.Value, module.StoredSecret{Name: name, Tags: e.Tags, CreatedAt: e.CreatedAt}}
	}
}
