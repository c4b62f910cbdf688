package samtemplate_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/samtemplate"
)

type resource struct {
	Type       string    `yaml:"Type"`
	Properties yaml.Node `yaml:"Properties"`
}

// TestEveryFunctionIsWatched: each function has an alarm on its Lambda
// errors and one on its throttles; the service-level alarms exist; every
// alarm notifies AlarmTopicArn when it is set; one dashboard.
func TestEveryFunctionIsWatched(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]resource `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	watched := map[string]bool{} // "<metric> <function logical ID>"
	dashboards := 0
	for id, r := range doc.Resources {
		switch r.Type {
		case "AWS::CloudWatch::Dashboard":
			dashboards++
		case "AWS::CloudWatch::Alarm":
			var p struct {
				MetricName   string      `yaml:"MetricName"`
				Dimensions   []yaml.Node `yaml:"Dimensions"`
				AlarmActions yaml.Node   `yaml:"AlarmActions"`
			}
			if err := r.Properties.Decode(&p); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if b, _ := yaml.Marshal(&p.AlarmActions); !strings.Contains(string(b), "HasAlarmTopic") || !strings.Contains(string(b), "AlarmTopicArn") {
				t.Errorf("alarm %s does not notify AlarmTopicArn: %s", id, b)
			}
			for _, d := range p.Dimensions {
				var dim struct {
					Name  string    `yaml:"Name"`
					Value yaml.Node `yaml:"Value"`
				}
				_ = d.Decode(&dim)
				if dim.Name == "FunctionName" {
					watched[p.MetricName+" "+dim.Value.Value] = true
				}
				// The authorizer's errors are its lines' outcome "error":
				// its Lambda Errors count every expired token (the error
				// "Unauthorized" is how API Gateway is made to answer 401).
				if id == "AuthorizerErrorsAlarm" && p.MetricName == "Requests" && dim.Name == "outcome" && dim.Value.Value == "error" {
					watched["Errors "+tpl.Authorizer] = true
				}
			}
			watched[id] = true
		}
	}
	for _, f := range tpl.Functions {
		for _, m := range []string{"Errors", "Throttles"} {
			if !watched[m+" "+f.LogicalID] {
				t.Errorf("function %s has no alarm on its Lambda %s", f.LogicalID, m)
			}
		}
	}
	for _, id := range []string{"Api5xxAlarm", "TokenThrottledAlarm", "RotationFailedAlarm", "ReaperFailedAlarm", "TokenProviderThrottlesAlarm", "CreateModuleProviderThrottlesAlarm", "TableReadThrottleAlarm", "TableWriteThrottleAlarm"} {
		if !watched[id] {
			t.Errorf("no %s", id)
		}
	}
	if dashboards != 1 {
		t.Errorf("%d dashboards; want one", dashboards)
	}
}

// TestDefaultsHaveOneSource: the template's defaults of the bounds README.md
// states are those the code assumes when a variable is unset, so every
// statement of a bound is the same number.
func TestDefaultsHaveOneSource(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for param, want := range map[string]time.Duration{
		"ClientCacheSeconds": config.DefaultClientCache,
		"KeyCacheSeconds":    config.DefaultKeyCache,
		"AuditRetentionDays": config.DefaultAuditRetention / (24 * time.Hour) * time.Second,
	} {
		if got := doc.Parameters[param].Default; got != strconv.Itoa(int(want.Seconds())) {
			t.Errorf("%s defaults to %q in template.yaml; the code assumes %d", param, got, int(want.Seconds()))
		}
	}
}
