// Package samtemplate reads what the local gateway needs from
// template.yaml: the functions, the HTTP API routes each serves, and which
// routes the Lambda authorizer guards. template.yaml is the one route list.
package samtemplate

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
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
	// RateRules are the rate-based rules of the web ACL in front of the
	// API, parameters resolved to their defaults, whatever the conditions
	// on it (EdgeRateLimiting, the region) say.
	RateRules []RateRule
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
	// Throttle is the route's RouteSettings, else the API's
	// DefaultRouteSettings; nil when neither sets a limit.
	Throttle *Throttle
}

// Throttle is API Gateway's route throttling: a token bucket that holds
// Burst requests and refills at Rate per second, across all callers.
type Throttle struct {
	Rate  float64
	Burst int
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
			RouteSettings routeSettings `yaml:"RouteSettings"`
		} `yaml:"Properties"`
	} `yaml:"Events"`
}

// routeSettings are an HTTP API's throttling settings; the values may be
// !Ref to parameters.
type routeSettings struct {
	Rate  yaml.Node `yaml:"ThrottlingRateLimit"`
	Burst yaml.Node `yaml:"ThrottlingBurstLimit"`
}

type apiProps struct {
	DefaultRouteSettings routeSettings `yaml:"DefaultRouteSettings"`
	CorsConfiguration    struct {
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
	var defaultThrottle *Throttle
	rotations := map[string]bool{}
	for _, res := range r.Resources {
		switch res.Type {
		case "AWS::Serverless::HttpApi":
			var api apiProps
			if err := res.Properties.Decode(&api); err != nil {
				return t, fmt.Errorf("HttpApi: %w", err)
			}
			defaultAuth = api.Auth.DefaultAuthorizer
			var err error
			if defaultThrottle, err = t.throttle(api.DefaultRouteSettings); err != nil {
				return t, fmt.Errorf("HttpApi DefaultRouteSettings: %w", err)
			}
			for name, a := range api.Auth.Authorizers {
				authorizers[name] = logicalID(a.FunctionArn)
				t.Authorizer = authorizers[name]
			}
			c := api.CorsConfiguration
			t.CORS = CORS{AllowOrigins: t.strings(c.AllowOrigins), AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
				ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge}
		case "AWS::WAFv2::WebACL":
			rules, err := t.rateRules(res.Properties)
			if err != nil {
				return t, fmt.Errorf("WebACL: %w", err)
			}
			t.RateRules = append(t.RateRules, rules...)
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
				throttle, err := t.throttle(e.Properties.RouteSettings)
				if err != nil {
					return t, fmt.Errorf("%s RouteSettings: %w", id, err)
				}
				if throttle == nil {
					throttle = defaultThrottle
				}
				f.Routes = append(f.Routes, Route{Method: strings.ToUpper(e.Properties.Method), Path: e.Properties.Path,
					Authorized: auth != "" && auth != "NONE", Throttle: throttle})
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

// throttle reads route settings; nil when they set no rate.
func (t Template) throttle(rs routeSettings) (*Throttle, error) {
	rate, burst := t.scalar(rs.Rate), t.scalar(rs.Burst)
	if rate == "" && burst == "" {
		return nil, nil
	}
	r, err1 := strconv.ParseFloat(rate, 64)
	b, err2 := strconv.Atoi(burst)
	if err1 != nil || err2 != nil || r <= 0 || b <= 0 {
		return nil, fmt.Errorf("ThrottlingRateLimit %q and ThrottlingBurstLimit %q must both be positive numbers", rate, burst)
	}
	return &Throttle{Rate: r, Burst: b}, nil
}

// scalar reads a value that may be a !Ref to a parameter.
func (t Template) scalar(n yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return t.Parameters[n.Value]
	}
	return n.Value
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
