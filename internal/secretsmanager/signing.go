package secretsmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/modules-service/modules/internal/signing"
)

// ValueAPI reads secret versions.
type ValueAPI interface {
	GetSecretValue(context.Context, *sm.GetSecretValueInput, ...func(*sm.Options)) (*sm.GetSecretValueOutput, error)
}

// SigningKeys loads the token-signing keys from the versions of one secret:
// AWSCURRENT signs, AWSPREVIOUS stays published after a rotation.
// It implements signing.Source[signing.KeySet].
type SigningKeys struct {
	SM       ValueAPI
	SecretID string
}

// Load implements signing.Source[signing.KeySet]. The two versions are read in parallel:
// this sits on every cold start of the token function and the authorizer.
func (s *SigningKeys) Load(ctx context.Context) (signing.KeySet, error) {
	type result struct {
		key signing.Key
		err error
	}
	previous := make(chan result, 1)
	go func() {
		k, err := s.version(ctx, "AWSPREVIOUS")
		previous <- result{k, err}
	}()
	cur, err := s.version(ctx, "AWSCURRENT")
	p := <-previous
	if err != nil {
		return signing.KeySet{}, err
	}
	set := signing.KeySet{Current: cur}
	prev, err := p.key, p.err
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		set.Previous = &prev
	case !errors.As(err, &missing) && !isNoKey(err):
		return signing.KeySet{}, err
	}
	return set, nil
}

func (s *SigningKeys) version(ctx context.Context, stage string) (signing.Key, error) {
	out, err := s.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(s.SecretID), VersionStage: aws.String(stage)})
	if err != nil {
		return signing.Key{}, fmt.Errorf("get signing key %s: %w", stage, err)
	}
	k, err := signing.Parse(aws.ToString(out.SecretString))
	if err != nil {
		return signing.Key{}, noKey{fmt.Errorf("%s: %w", stage, err)}
	}
	return k, nil
}

// noKey marks a version that holds no key, such as the placeholder value
// the secret is created with before its first rotation.
type noKey struct{ error }

func (n noKey) Unwrap() error { return n.error }

func isNoKey(err error) bool { var n noKey; return errors.As(err, &n) }

// PublicKeys loads the public keys the rotation publishes (the AWSCURRENT
// value of their secret). It implements signing.Source[signing.PublicKeys]
// for verifiers, which may read nothing else.
type PublicKeys struct {
	SM       ValueAPI
	SecretID string
}

// Load implements signing.Source.
func (p *PublicKeys) Load(ctx context.Context) (signing.PublicKeys, error) {
	out, err := p.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(p.SecretID)})
	if err != nil {
		return signing.PublicKeys{}, fmt.Errorf("get public keys: %w", err)
	}
	return signing.ParsePublic(aws.ToString(out.SecretString))
}
