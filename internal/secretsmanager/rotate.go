package secretsmanager

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/signing"
)

// RotationAPI is what the rotation of the signing key calls.
type RotationAPI interface {
	ValueAPI
	DescribeSecret(context.Context, *sm.DescribeSecretInput, ...func(*sm.Options)) (*sm.DescribeSecretOutput, error)
	PutSecretValue(context.Context, *sm.PutSecretValueInput, ...func(*sm.Options)) (*sm.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *sm.UpdateSecretVersionStageInput, ...func(*sm.Options)) (*sm.UpdateSecretVersionStageOutput, error)
}

// RotationEvent is what Secrets Manager sends a rotation function.
type RotationEvent struct {
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// Version stages and rotation steps of Secrets Manager.
const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"

	stepCreate = "createSecret"
	stepSet    = "setSecret"
	stepTest   = "testSecret"
	stepFinish = "finishSecret"
)

// Rotation rotates the signing key and publishes the public keys.
type Rotation struct {
	SM RotationAPI
	// PublicKeysSecret receives the JWKS of the current, pending and
	// previous keys, which verifiers read instead of the private key.
	PublicKeysSecret string
	// Algorithm of the keys a rotation makes; empty: RS256. A rotation
	// after a change publishes the new key beside the previous one of the
	// old algorithm, so tokens of both verify until the old ones expire.
	Algorithm jose.SignatureAlgorithm
}

// Rotate performs one step of a Secrets Manager rotation of the signing
// key. Every step is idempotent, as Secrets Manager may retry it:
//   - createSecret puts a new key of Algorithm as AWSPENDING;
//   - setSecret publishes the public keys with the pending one, before it
//     signs anything, so verifiers know it when it does;
//   - testSecret checks the pending key parses;
//   - finishSecret makes it AWSCURRENT (Secrets Manager labels the old one
//     AWSPREVIOUS, which stays published until the next rotation) and
//     publishes the public keys again without the key that fell off.
func (r Rotation) Rotate(ctx context.Context, e RotationEvent) error {
	d, err := r.SM.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", e.SecretID, err)
	}
	stages, ok := d.VersionIdsToStages[e.ClientRequestToken]
	if !ok && e.Step != stepCreate {
		return fmt.Errorf("version %s of %s is not being rotated", e.ClientRequestToken, e.SecretID)
	}
	switch e.Step {
	case stepCreate:
		return r.create(ctx, e)
	case stepSet:
		return r.publish(ctx, e.SecretID)
	case stepTest:
		_, err := r.pending(ctx, e)
		return err
	case stepFinish:
		if !slices.Contains(stages, stageCurrent) {
			if err := r.finish(ctx, e, d.VersionIdsToStages); err != nil {
				return err
			}
		}
		return r.publish(ctx, e.SecretID)
	}
	return fmt.Errorf("unknown rotation step %q", e.Step)
}

func (r Rotation) create(ctx context.Context, e RotationEvent) error {
	_, err := r.pending(ctx, e)
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil // a retry: the pending key exists
	case !errors.As(err, &missing) && !isNoKey(err):
		return err
	}
	alg := r.Algorithm
	if alg == "" {
		alg = signing.RS256
	}
	k, err := signing.Generate(alg)
	if err != nil {
		return err
	}
	value, err := k.Marshal()
	if err != nil {
		return err
	}
	_, err = r.SM.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(e.SecretID), ClientRequestToken: aws.String(e.ClientRequestToken),
		SecretString: aws.String(value), VersionStages: []string{stagePending}})
	return err
}

func (r Rotation) pending(ctx context.Context, e RotationEvent) (signing.Key, error) {
	out, err := r.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken), VersionStage: aws.String(stagePending)})
	if err != nil {
		return signing.Key{}, err
	}
	k, err := signing.Parse(aws.ToString(out.SecretString))
	if err != nil {
		return signing.Key{}, noKey{err}
	}
	return k, nil
}

func (r Rotation) finish(ctx context.Context, e RotationEvent, versions map[string][]string) error {
	in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(e.ClientRequestToken)}
	for id, ss := range versions {
		if slices.Contains(ss, stageCurrent) {
			in.RemoveFromVersionId = aws.String(id)
		}
	}
	_, err := r.SM.UpdateSecretVersionStage(ctx, in)
	return err
}

// publish writes the public parts of the current, pending and previous
// keys to PublicKeysSecret, unless it holds them already.
func (r Rotation) publish(ctx context.Context, secretID string) error {
	var set jose.JSONWebKeySet
	for _, stage := range []string{stageCurrent, stagePending, stagePrevious} {
		out, err := r.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(stage)})
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get signing key %s: %w", stage, err)
		}
		k, err := signing.Parse(aws.ToString(out.SecretString))
		if err != nil || len(set.Key(k.ID)) > 0 {
			continue // the placeholder before the first key, or a key listed already
		}
		set.Keys = append(set.Keys, signing.KeySet{Current: k}.JWKS().Keys...)
	}
	if len(set.Keys) == 0 {
		return errors.New("no signing key to publish")
	}
	value, err := signing.PublicKeys{Set: set}.Marshal()
	if err != nil {
		return err
	}
	out, err := r.SM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(r.PublicKeysSecret)})
	if err == nil && aws.ToString(out.SecretString) == value {
		return nil
	}
	if _, err := r.SM.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(r.PublicKeysSecret), SecretString: aws.String(value)}); err != nil {
		return fmt.Errorf("publish public keys: %w", err)
	}
	return nil
}
