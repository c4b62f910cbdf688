package wiring

import (
	"context"
	"errors"
	"time"

	"github.com/modules-service/modules/internal/secretsmanager"
)

// RetirePreviousKey withdraws the previous signing key of the configured
// SigningKeySecret from what the token function loads and from the public
// keys in PublicKeysSecret (infra/admin retire-previous-key; docs/operations.md,
// "A signing key leaked"). It returns the retired version, or "".
// With rotate, it first rotates the key and waits for the new one (for a
// leaked current key, which the rotation makes the previous one).
func RetirePreviousKey(ctx context.Context, e Env, rotate bool) (string, error) {
	if e.Config.SigningKeySecret == "" || e.Config.PublicKeysSecret == "" {
		return "", errors.New("the signing key secret and the public keys secret are both required")
	}
	if rotate {
		api, ok := e.Rotation.(secretsmanager.RotateAPI)
		if !ok {
			return "", errors.New("this Secrets Manager client cannot start a rotation")
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if _, err := secretsmanager.RotateNow(ctx, api, e.Config.SigningKeySecret); err != nil {
			return "", err
		}
	}
	r := secretsmanager.Rotation{SM: e.Rotation, PublicKeysSecret: e.Config.PublicKeysSecret}
	return r.RetirePrevious(ctx, e.Config.SigningKeySecret)
}
