// Package secrethash hashes client secrets with argon2id into PHC strings.
// The parameters travel inside each hash, so they can be raised later
// without invalidating stored hashes.
package secrethash

import (
	"fmt"

	"github.com/alexedwards/argon2id"
)

// OWASP is the OWASP Password Storage Cheat Sheet's argon2id minimum:
// m=19 MiB, t=2, p=1.
var OWASP = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher hashes with Params and verifies a hash with the parameters it carries.
type Hasher struct {
	Params argon2id.Params
}

// New returns a Hasher with the OWASP parameters.
func New() Hasher { return Hasher{Params: OWASP} }

// Hash returns the PHC string of secret with a fresh random salt.
func (h Hasher) Hash(secret string) (string, error) {
	p := h.Params
	hash, err := argon2id.CreateHash(secret, &p)
	if err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	return hash, nil
}

// Verify reports whether secret matches hash, in constant time.
func (h Hasher) Verify(secret, hash string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(secret, hash)
	if err != nil {
		return false, fmt.Errorf("verify secret: %w", err)
	}
	return ok, nil
}
