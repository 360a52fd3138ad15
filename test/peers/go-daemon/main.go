// A Go daemon, as three of the five originals are: it records jobmeter's canonical instruments
// with the OpenTelemetry Go SDK and pushes them once, with the official OTLP/HTTP exporter, to
// the endpoint it is given; with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc (the specification's
// variable, which the Go exporters leave to the program) with the official OTLP/gRPC exporter
// instead (test/e2e/go-sdk-grpc.test.ts). test/e2e/go-sdk.test.ts feeds it a script of runs on stdin and
// compares jobmeter's pull endpoint with an embedded Node host's for the same runs.
//
// Like a daemon that keeps its run history in a database, it reports the totals per outcome and
// the last failure's time as observable instruments, next to the synchronous run counters.
//
// With `config` in the script, its SDK comes from that OpenTelemetry configuration file instead
// (otelconf, the Go SDK's declarative configuration: `jobmeter views`' output, whose views set the
// buckets and attributes; test/e2e/collector-views.test.ts), and the script's endpoint and
// buckets are not used.
//
// With `runtime` in the script it also runs the OpenTelemetry Go runtime instrumentation
// (go.opentelemetry.io/contrib/instrumentation/runtime: the semconv `go.*` metrics, and the
// deprecated `runtime.go.*` ones when OTEL_GO_X_DEPRECATED_RUNTIME_METRICS=true), and after its
// last push prints the runtime's own figures as one JSON line on stdout, for the test to compare.
//
// `gauges` are figures a daemon reads from its own records (its hosts, its fleet, its assignments by
// status), observed as gauges under the given names and attributes; `counters` are totals it keeps
// there (a journal's events, a cost ledger), observed as counters the same way. `pushes` above 1
// keeps it running, exporting once a second that many times, as a daemon does between restarts
// (test/e2e/collector-daemon-gateway.test.ts).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/contrib/otelconf"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

type run struct {
	Task    string  `json:"task"`
	Kind    string  `json:"kind"`
	Runner  string  `json:"runner"`
	Outcome string  `json:"outcome"`
	Seconds float64 `json:"seconds"`
}

type runnerError struct {
	Runner string `json:"runner"`
	Error  string `json:"error"`
}

type gaugePoint struct {
	Name       string            `json:"name"`
	Value      float64           `json:"value"`
	Attributes map[string]string `json:"attributes"`
}

type script struct {
	Gauges             []gaugePoint  `json:"gauges"`
	Counters           []gaugePoint  `json:"counters"`
	Pushes             int           `json:"pushes"`
	Config             string        `json:"config"`
	Endpoint           string        `json:"endpoint"`
	Service            string        `json:"service"`
	Buckets            []float64     `json:"buckets"`
	Runs               []run         `json:"runs"`
	Errors             []runnerError `json:"errors"`
	Rejects            []string      `json:"rejects"`
	LastFailureSeconds *float64      `json:"lastFailureSeconds"`
	Runtime            bool          `json:"runtime"`
}

// runtimeFigures are the Go runtime's own numbers, as crewshipd reads them for its process gauges.
type runtimeFigures struct {
	Goroutines   int    `json:"goroutines"`
	HeapAlloc    uint64 `json:"heapAlloc"`
	Sys          uint64 `json:"sys"`
	HeapReleased uint64 `json:"heapReleased"`
	NumGC        uint32 `json:"numGC"`
}

func main() {
	if err := pushOnce(); err != nil {
		fmt.Fprintln(os.Stderr, "go-daemon:", err)
		os.Exit(1)
	}
}

func pushOnce() error {
	var s script
	if err := json.NewDecoder(os.Stdin).Decode(&s); err != nil {
		return fmt.Errorf("reading the script: %w", err)
	}
	ctx := context.Background()
	provider, shutdown, err := meterProvider(ctx, s)
	if err != nil {
		return err
	}
	if s.Runtime {
		if err := runtime.Start(runtime.WithMeterProvider(provider)); err != nil {
			return err
		}
	}
	meter := provider.Meter(s.Service, metric.WithInstrumentationVersion("1.4.2"))
	var advice []metric.Float64HistogramOption
	if len(s.Buckets) > 0 {
		advice = append(advice, metric.WithExplicitBucketBoundaries(s.Buckets...))
	}

	started, _ := meter.Int64Counter("jobmeter.run.started", metric.WithUnit("{run}"))
	finished, _ := meter.Int64Counter("jobmeter.run.finished", metric.WithUnit("{run}"))
	duration, _ := meter.Float64Histogram("jobmeter.run.duration", append(advice, metric.WithUnit("s"))...)
	errors, _ := meter.Int64Counter("jobmeter.runner.error", metric.WithUnit("{error}"))
	rejected, _ := meter.Int64Counter("jobmeter.request.rejected", metric.WithUnit("{request}"))
	history, _ := meter.Int64ObservableCounter("jobmeter.run.history", metric.WithUnit("{run}"))
	lastFailure, _ := meter.Float64ObservableGauge("jobmeter.run.last_failure.time", metric.WithUnit("s"))

	totals := map[string]int64{"success": 0, "failure": 0, "cancelled": 0, "timeout": 0}
	for _, r := range s.Runs {
		attrs := []attribute.KeyValue{attribute.String("task", r.Task), attribute.String("kind", r.Kind), attribute.String("runner", r.Runner)}
		started.Add(ctx, 1, metric.WithAttributes(attrs...))
		withOutcome := metric.WithAttributes(append(attrs, attribute.String("outcome", r.Outcome))...)
		finished.Add(ctx, 1, withOutcome)
		duration.Record(ctx, r.Seconds, withOutcome)
		totals[r.Outcome]++
	}
	for _, e := range s.Errors {
		errors.Add(ctx, 1, metric.WithAttributes(attribute.String("runner", e.Runner), attribute.String("error", e.Error)))
	}
	for _, reason := range s.Rejects {
		rejected.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for outcome, n := range totals {
			o.ObserveInt64(history, n, metric.WithAttributes(attribute.String("outcome", outcome)))
		}
		if s.LastFailureSeconds != nil {
			o.ObserveFloat64(lastFailure, *s.LastFailureSeconds)
		}
		return nil
	}, history, lastFailure)
	if err != nil {
		return err
	}
	gauge := func(name string) (metric.Float64Observable, error) { return meter.Float64ObservableGauge(name) }
	if err := observe(meter, s.Gauges, gauge); err != nil {
		return err
	}
	counter := func(name string) (metric.Float64Observable, error) { return meter.Float64ObservableCounter(name) }
	if err := observe(meter, s.Counters, counter); err != nil {
		return err
	}
	if flusher, ok := provider.(interface{ ForceFlush(context.Context) error }); ok {
		for i := 1; i < s.Pushes; i++ {
			if err := flusher.ForceFlush(ctx); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
	} else if s.Pushes > 1 {
		return fmt.Errorf("the meter provider cannot flush, so it cannot push %d times", s.Pushes)
	}
	// Shutdown collects and exports once more.
	if err := shutdown(ctx); err != nil {
		return err
	}
	if s.Runtime {
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		figures := runtimeFigures{Goroutines: goruntime.NumGoroutine(), HeapAlloc: m.HeapAlloc, Sys: m.Sys, HeapReleased: m.HeapReleased, NumGC: m.NumGC}
		return json.NewEncoder(os.Stdout).Encode(figures)
	}
	return nil
}

// observe registers one observable instrument per name (made by create) and reports every point
// on each collection.
func observe(meter metric.Meter, points []gaugePoint, create func(string) (metric.Float64Observable, error)) error {
	instruments := map[string]metric.Float64Observable{}
	var observables []metric.Observable
	for _, p := range points {
		if _, ok := instruments[p.Name]; ok {
			continue
		}
		g, err := create(p.Name)
		if err != nil {
			return err
		}
		instruments[p.Name] = g
		observables = append(observables, g)
	}
	if len(observables) == 0 {
		return nil
	}
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, p := range points {
			attrs := make([]attribute.KeyValue, 0, len(p.Attributes))
			for k, v := range p.Attributes {
				attrs = append(attrs, attribute.String(k, v))
			}
			o.ObserveFloat64(instruments[p.Name], p.Value, metric.WithAttributes(attrs...))
		}
		return nil
	}, observables...)
	return err
}

// meterProvider is the SDK's, from the script's endpoint, or from its configuration file.
func meterProvider(ctx context.Context, s script) (metric.MeterProvider, func(context.Context) error, error) {
	if s.Config != "" {
		b, err := os.ReadFile(s.Config)
		if err != nil {
			return nil, nil, err
		}
		cfg, err := otelconf.ParseYAML(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.Config, err)
		}
		sdk, err := otelconf.NewSDK(otelconf.WithContext(ctx), otelconf.WithOpenTelemetryConfiguration(*cfg))
		if err != nil {
			return nil, nil, err
		}
		return sdk.MeterProvider(), sdk.Shutdown, nil
	}
	exporter, err := exporterFor(ctx, s.Endpoint)
	if err != nil {
		return nil, nil, err
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(semconv.ServiceName(s.Service))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter)),
	)
	return provider, provider.Shutdown, nil
}

// exporterFor is the official OTLP exporter of the protocol OTEL_EXPORTER_OTLP_METRICS_PROTOCOL
// names (http/protobuf unless it says grpc), sending to endpoint: for gRPC `http://host:port`,
// which the exporter reads as a connection without TLS.
func exporterFor(ctx context.Context, endpoint string) (sdkmetric.Exporter, error) {
	switch protocol := os.Getenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"); protocol {
	case "grpc":
		return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(endpoint))
	case "", "http/protobuf":
		return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(endpoint))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=%q: this daemon speaks grpc and http/protobuf", protocol)
	}
}
