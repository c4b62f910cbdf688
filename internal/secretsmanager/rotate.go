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

// Rotate performs one step of a Secrets Manager rotation of the signing
// key. createSecret puts a new RSA key as AWSPENDING; finishSecret makes it
// AWSCURRENT, and Secrets Manager labels the old one AWSPREVIOUS, which the
// token function keeps publishing in its JWKS. Every step is idempotent, as
// Secrets Manager may retry it.
func Rotate(ctx context.Context, api RotationAPI, e RotationEvent) error {
	d, err := api.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(e.SecretID)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", e.SecretID, err)
	}
	stages, ok := d.VersionIdsToStages[e.ClientRequestToken]
	if !ok && e.Step != "createSecret" {
		return fmt.Errorf("version %s of %s is not being rotated", e.ClientRequestToken, e.SecretID)
	}
	switch e.Step {
	case "createSecret":
		out, err := api.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			return err
		}
		if err == nil {
			if _, perr := signing.Parse(aws.ToString(out.SecretString)); perr == nil {
				return nil // a retry: the pending key exists
			}
		}
		k, err := signing.Generate()
		if err != nil {
			return err
		}
		value, err := k.Marshal()
		if err != nil {
			return err
		}
		_, err = api.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(e.SecretID), ClientRequestToken: aws.String(e.ClientRequestToken),
			SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"}})
		return err
	case "setSecret":
		return nil // the key is used by this service alone: nothing to tell anyone
	case "testSecret":
		out, err := api.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(e.SecretID), VersionId: aws.String(e.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return err
		}
		_, err = signing.Parse(aws.ToString(out.SecretString))
		return err
	case "finishSecret":
		for _, s := range stages {
			if s == "AWSCURRENT" {
				return nil
			}
		}
		current := ""
		for id, ss := range d.VersionIdsToStages {
			for _, s := range ss {
				if s == "AWSCURRENT" {
					current = id
				}
			}
		}
		in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String(e.SecretID), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(e.ClientRequestToken)}
		if current != "" {
			in.RemoveFromVersionId = aws.String(current)
		}
		_, err := api.UpdateSecretVersionStage(ctx, in)
		return err
	}
	return fmt.Errorf("unknown rotation step %q", e.Step)
}
