package main

import (
	"errors"
	"fmt"
	"sort"

	"github.com/grafana/dataplane/sdata"
	"github.com/grafana/dataplane/sdata/numeric"
	"github.com/grafana/dataplane/sdata/reader"
	"github.com/grafana/dataplane/sdata/timeseries"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// AlertInstance is one number or series Grafana's alerting reads from an
// answer: one alert instance per label set.
type AlertInstance struct {
	Labels map[string]string `json:"labels"`
	// One value for a number; one per point for a series (null: no value).
	Values []*float64 `json:"values"`
}

// readAlerting reads an answer the way Grafana's server-side expressions
// and alerting read data-plane frames (github.com/grafana/dataplane/sdata,
// the readers Grafana's SSE is built on): the frame kind from the first
// frame's meta, then a numeric or time series collection. It reports what
// alerting cannot read: an unsupported kind or version, an invalid
// collection, a numeric frame with more than one value field (each row must
// be one instance), and two instances with the same labels.
func readAlerting(frames data.Frames) ([]AlertInstance, []string) {
	instances := []AlertInstance{}
	if len(frames) == 0 || len(frames) == 1 && len(frames[0].Fields) == 0 {
		return instances, nil // no data: alerting's NoData state
	}
	kind, err := reader.CanReadBasedOnMeta(frames)
	var versionWarning *sdata.VersionWarning
	if errors.As(err, &versionWarning) {
		return instances, []string{fmt.Sprintf("alerting reads %s only at version %s: %v", kind, versionWarning.LibraryVersion, err)}
	}
	if err != nil {
		return instances, []string{fmt.Sprintf("alerting cannot read this answer: %v; it needs numeric-wide, numeric-long, numeric-multi or timeseries-* frames", err)}
	}
	var problems []string
	switch kind {
	case data.FrameTypeNumericWide, data.FrameTypeNumericLong, data.FrameTypeNumericMulti:
		for i, f := range frames {
			numbers := 0
			for _, field := range f.Fields {
				if field.Type().Numeric() {
					numbers++
				}
			}
			if kind != data.FrameTypeNumericWide && numbers != 1 {
				problems = append(problems, fmt.Sprintf("frame %d has %d numeric fields; each row must be one alert instance, so a %s frame has exactly one", i, numbers, kind))
			}
		}
		cr, err := numeric.CollectionReaderFromFrames(frames)
		if err != nil {
			return instances, append(problems, fmt.Sprintf("alerting cannot read the %s frames: %v", kind, err))
		}
		c, err := cr.GetCollection(false)
		if err != nil {
			return instances, append(problems, fmt.Sprintf("alerting cannot read the %s frames: %v", kind, err))
		}
		if c.Warning != nil {
			problems = append(problems, fmt.Sprintf("alerting warns: %v", c.Warning))
		}
		for _, ref := range c.Refs {
			v, empty, err := ref.NullableFloat64Value()
			if err != nil || empty {
				problems = append(problems, fmt.Sprintf("the value %q %s is not one number (%v)", ref.GetMetricName(), ref.GetLabels(), err))
				continue
			}
			instances = append(instances, AlertInstance{Labels: ref.GetLabels(), Values: []*float64{v}})
		}
	case data.FrameTypeTimeSeriesMulti, data.FrameTypeTimeSeriesWide, data.FrameTypeTimeSeriesLong:
		cr, err := timeseries.CollectionReaderFromFrames(frames)
		if err != nil {
			return instances, []string{fmt.Sprintf("alerting cannot read the %s frames: %v", kind, err)}
		}
		c, err := cr.GetCollection(false)
		if err != nil {
			return instances, []string{fmt.Sprintf("alerting cannot read the %s frames: %v", kind, err)}
		}
		if c.Warning != nil {
			problems = append(problems, fmt.Sprintf("alerting warns: %v", c.Warning))
		}
		for _, ref := range c.Refs {
			n, err := ref.Len()
			if err != nil {
				problems = append(problems, fmt.Sprintf("series %s: %v", ref.GetLabels(), err))
				continue
			}
			values := make([]*float64, 0, n)
			for i := 0; i < n; i++ {
				v, err := ref.NullableFloat64Value(i)
				if err != nil {
					problems = append(problems, fmt.Sprintf("series %s point %d: %v", ref.GetLabels(), i, err))
					break
				}
				values = append(values, v)
			}
			instances = append(instances, AlertInstance{Labels: ref.GetLabels(), Values: values})
		}
	default:
		problems = append(problems, fmt.Sprintf("alerting has no reader for %s", kind))
	}
	for i := range instances {
		if instances[i].Labels == nil {
			instances[i].Labels = map[string]string{}
		}
	}
	seen := map[string]bool{}
	for _, in := range instances {
		key := data.Labels(in.Labels).String()
		if seen[key] {
			problems = append(problems, fmt.Sprintf("two alert instances with labels %s; each needs labels of its own", key))
		}
		seen[key] = true
	}
	sort.SliceStable(instances, func(i, j int) bool {
		return data.Labels(instances[i].Labels).String() < data.Labels(instances[j].Labels).String()
	})
	return instances, problems
}
