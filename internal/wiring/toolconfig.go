package wiring

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// DefaultLocalRegion is the region a tool assumes against a local endpoint
// when none is configured.
const DefaultLocalRegion = "us-east-1"

// ToolAWSConfig is the AWS configuration of the local gateway and the
// operator's tools: the default SDK chain (environment, profile). With
// AWS_ENDPOINT_URL set (moto, LocalStack, ministack), which checks neither,
// a missing region becomes DefaultLocalRegion and missing credentials
// become dummy ones, and note says so; without it, a missing region is an
// error that says what to set, instead of a request to a malformed URL.
func ToolAWSConfig(ctx context.Context) (cfg aws.Config, note string, err error) {
	local := os.Getenv("AWS_ENDPOINT_URL") != ""
	var opts []func(*awsconfig.LoadOptions) error
	if local { // no instance metadata on a developer's machine: do not wait for it
		opts = append(opts, awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if cfg, err = awsconfig.LoadDefaultConfig(ctx, opts...); err != nil {
		return cfg, "", err
	}
	if !local {
		if cfg.Region == "" {
			return cfg, "", errors.New("no AWS region configured: set AWS_REGION to the stack's region (or AWS_PROFILE to a profile that has one)")
		}
		return cfg, "", nil
	}
	var missing, filled []string
	if cfg.Region == "" {
		cfg.Region = DefaultLocalRegion
		missing, filled = append(missing, "region"), append(filled, "region "+DefaultLocalRegion)
	}
	check, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(check); err != nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
		missing, filled = append(missing, "credentials"), append(filled, "dummy credentials")
	}
	if len(filled) > 0 {
		note = "AWS_ENDPOINT_URL is set and no " + strings.Join(missing, " and no ") + " configured: using " +
			strings.Join(filled, " and ") + " (a local endpoint checks neither)"
	}
	return cfg, note, nil
}
