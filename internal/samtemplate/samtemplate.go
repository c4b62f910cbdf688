// Package samtemplate reads what the local gateway needs from
// template.yaml: the functions, the HTTP API routes each serves, and which
// routes the Lambda authorizer guards. template.yaml is the one route list.
package samtemplate

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the part of a SAM template the local gateway reads.
type Template struct {
	Functions []Function
	// Authorizer is the logical ID of the function behind the HTTP API's
	// Lambda authorizer; empty when there is none.
	Authorizer string
	// CORS is the HTTP API's CorsConfiguration, parameters resolved to
	// their defaults.
	CORS CORS
	// Parameters maps each parameter to its default.
	Parameters map[string]string
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Folder is its folder under functions/: the logical ID without the
	// "Function" suffix, in kebab case (CreateModuleFunction: create-module).
	Folder     string
	Routes     []Route
	Scheduled  bool // has a Schedule or ScheduleV2 event
	Rotation   bool // is the rotation function of a RotationSchedule
	Authorizer bool // backs the HTTP API's Lambda authorizer
}

// Route is one HttpApi event.
type Route struct {
	Method, Path string
	Authorized   bool
}

// Key is the route as API Gateway's routeKey writes it.
func (r Route) Key() string { return r.Method + " " + r.Path }

// CORS is an HTTP API CorsConfiguration.
type CORS struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  int
}

// Load reads a template file.
func Load(path string) (Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Template{}, err
	}
	return Parse(b)
}

// raw mirrors the template; intrinsic functions (!Ref, !GetAtt) stay nodes.
type raw struct {
	Parameters map[string]struct {
		Default yaml.Node `yaml:"Default"`
	} `yaml:"Parameters"`
	Resources map[string]struct {
		Type       string    `yaml:"Type"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Resources"`
}

type functionProps struct {
	Events map[string]struct {
		Type       string `yaml:"Type"`
		Properties struct {
			Method string `yaml:"Method"`
			Path   string `yaml:"Path"`
			Auth   struct {
				Authorizer string `yaml:"Authorizer"`
			} `yaml:"Auth"`
		} `yaml:"Properties"`
	} `yaml:"Events"`
}

type apiProps struct {
	CorsConfiguration struct {
		AllowOrigins     yaml.Node `yaml:"AllowOrigins"`
		AllowMethods     []string  `yaml:"AllowMethods"`
		AllowHeaders     []string  `yaml:"AllowHeaders"`
		ExposeHeaders    []string  `yaml:"ExposeHeaders"`
		AllowCredentials bool      `yaml:"AllowCredentials"`
		MaxAge           int       `yaml:"MaxAge"`
	} `yaml:"CorsConfiguration"`
	Auth struct {
		DefaultAuthorizer string `yaml:"DefaultAuthorizer"`
		Authorizers       map[string]struct {
			FunctionArn yaml.Node `yaml:"FunctionArn"`
		} `yaml:"Authorizers"`
	} `yaml:"Auth"`
}

// Parse reads a template.
func Parse(b []byte) (Template, error) {
	var r raw
	if err := yaml.Unmarshal(b, &r); err != nil {
		return Template{}, fmt.Errorf("parse template: %w", err)
	}
	t := Template{Parameters: map[string]string{}}
	for name, p := range r.Parameters {
		t.Parameters[name] = p.Default.Value
	}
	authorizers, defaultAuth := map[string]string{}, ""
	rotations := map[string]bool{}
	for _, res := range r.Resources {
		switch res.Type {
		case "AWS::Serverless::HttpApi":
			var api apiProps
			if err := res.Properties.Decode(&api); err != nil {
				return t, fmt.Errorf("HttpApi: %w", err)
			}
			defaultAuth = api.Auth.DefaultAuthorizer
			for name, a := range api.Auth.Authorizers {
				authorizers[name] = logicalID(a.FunctionArn)
				t.Authorizer = authorizers[name]
			}
			c := api.CorsConfiguration
			t.CORS = CORS{AllowOrigins: t.strings(c.AllowOrigins), AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
				ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge}
		case "AWS::SecretsManager::RotationSchedule":
			var rs struct {
				RotationLambdaARN yaml.Node `yaml:"RotationLambdaARN"`
			}
			if err := res.Properties.Decode(&rs); err == nil {
				rotations[logicalID(rs.RotationLambdaARN)] = true
			}
		}
	}
	for id, res := range r.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		var props functionProps
		if err := res.Properties.Decode(&props); err != nil {
			return t, fmt.Errorf("%s: %w", id, err)
		}
		f := Function{LogicalID: id, Folder: folder(id), Rotation: rotations[id], Authorizer: id == t.Authorizer}
		for _, e := range props.Events {
			switch e.Type {
			case "HttpApi":
				auth := e.Properties.Auth.Authorizer
				if auth == "" {
					auth = defaultAuth
				}
				f.Routes = append(f.Routes, Route{Method: strings.ToUpper(e.Properties.Method), Path: e.Properties.Path, Authorized: auth != "" && auth != "NONE"})
			case "Schedule", "ScheduleV2":
				f.Scheduled = true
			}
		}
		sort.Slice(f.Routes, func(i, j int) bool { return f.Routes[i].Key() < f.Routes[j].Key() })
		t.Functions = append(t.Functions, f)
	}
	sort.Slice(t.Functions, func(i, j int) bool { return t.Functions[i].LogicalID < t.Functions[j].LogicalID })
	return t, nil
}

// logicalID reads the resource of !GetAtt X.Arn, !Ref X or {"Fn::GetAtt": [X, Arn]}.
func logicalID(n yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode:
		return strings.TrimSuffix(n.Value, ".Arn")
	case n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		return n.Content[0].Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		return logicalID(*n.Content[1])
	}
	return ""
}

// strings reads a list that may be a !Ref to a CommaDelimitedList parameter.
func (t Template) strings(n yaml.Node) []string {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!Ref":
		return splitList(t.Parameters[n.Value])
	case n.Kind == yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var upper = regexp.MustCompile(`[A-Z][a-z0-9]*`)

func folder(logicalID string) string {
	words := upper.FindAllString(strings.TrimSuffix(logicalID, "Function"), -1)
	return strings.ToLower(strings.Join(words, "-"))
}
