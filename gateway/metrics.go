package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series. Each Server has its own
// registry, so several gateways in one process never share counters.
type metrics struct {
	registry *prometheus.Registry

	requests         *prometheus.CounterVec
	cacheHits        prometheus.Counter
	cacheMisses      prometheus.Counter
	cacheEvictions   *prometheus.CounterVec
	authDuration     *prometheus.HistogramVec
	upstreamDuration *prometheus.HistogramVec
	pushEvents       *prometheus.CounterVec
	pushDelay        prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_requests_total",
			Help: "API requests by route prefix and response status, preflights included.",
		}, []string{"route", "code"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_cache_hits_total",
			Help: "Requests served with a cached introspection and exchange result (pull mode).",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_cache_misses_total",
			Help: "Requests that found no cached result and needed steps 16 and 17 (pull mode).",
		}),
		cacheEvictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_evictions_total",
			Help: "Cached results removed before their window ended, by reason: capacity, revoked, user_changed, key_retired.",
		}, []string{"reason"}),
		authDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_authserver_request_duration_seconds",
			Help:    "Duration of calls to the authorization server, by call: introspection (step 16) or token_exchange (step 17).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"call"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_upstream_request_duration_seconds",
			Help:    "Duration of forwarded requests (step 18) until the response body ends, by route prefix.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
		pushEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_push_events_received_total",
			Help: "Pushed security events by event type and result (applied, ignored, rejected).",
		}, []string{"event", "result"}),
		pushDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_push_delay_seconds",
			Help:    "Time from a pushed SET's iat to its receipt, by the gateway's clock (whole seconds, as iat has no fraction).",
			Buckets: []float64{0, 1, 2, 5, 10, 30, 60},
		}),
	}
	m.registry.MustRegister(m.requests, m.cacheHits, m.cacheMisses, m.cacheEvictions,
		m.authDuration, m.upstreamDuration, m.pushEvents, m.pushDelay,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func (m *metrics) evicted(reason string, n int) {
	m.cacheEvictions.WithLabelValues(reason).Add(float64(n))
}

func (m *metrics) observeAuth(call string, d time.Duration) {
	m.authDuration.WithLabelValues(call).Observe(d.Seconds())
}

// routeMetrics are the series of one route, resolved once so a request
// does not look its labels up again.
type routeMetrics struct {
	requests *prometheus.CounterVec // curried with the route label
	byStatus map[int]prometheus.Counter
	upstream prometheus.Observer
}

func (m *metrics) forRoute(prefix string) *routeMetrics {
	// The common statuses are resolved in advance; others are looked up
	// when they occur.
	commonStatuses := []int{200, 204, 400, 401, 403, 404, 502, 503, 504}
	rm := &routeMetrics{
		requests: m.requests.MustCurryWith(prometheus.Labels{"route": prefix}),
		byStatus: make(map[int]prometheus.Counter, len(commonStatuses)),
		upstream: m.upstreamDuration.WithLabelValues(prefix),
	}
	for _, code := range commonStatuses {
		rm.byStatus[code] = rm.requests.WithLabelValues(strconv.Itoa(code))
	}
	return rm
}

func (rm *routeMetrics) count(status int) {
	if c, ok := rm.byStatus[status]; ok {
		c.Inc()
		return
	}
	rm.requests.WithLabelValues(strconv.Itoa(status)).Inc()
}
