// Package config reads a function's settings from its environment, as
// template.yaml sets them, and fails at start when one is missing.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Config holds the settings the functions share.
type Config struct {
	Table        string // TABLE_NAME: the one DynamoDB table
	SecretPrefix string // SECRET_PREFIX: secret hashes live under <prefix>/<tenant>/<client>
}

// FromEnv reads Config, naming every missing variable at once.
func FromEnv() (Config, error) {
	c := Config{Table: os.Getenv("TABLE_NAME"), SecretPrefix: strings.TrimSuffix(os.Getenv("SECRET_PREFIX"), "/")}
	var missing []string
	if c.Table == "" {
		missing = append(missing, "TABLE_NAME")
	}
	if c.SecretPrefix == "" {
		missing = append(missing, "SECRET_PREFIX")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Logger is the JSON logger to stdout every function uses (CloudWatch Logs
// keeps each line as one event).
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, nil))
}
