// Events out as OpenTelemetry: OTLP/HTTP with protobuf bodies, through the official JS SDK — log
// records (one per connect, exec, session, long run-queue wait) or spans (a session's lifetime, a
// wait's length). Batched by the SDK's processors; a collector that is down costs dropped batches
// (logged), never a stalled agent.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { OtlpConfig } from './config.js';
import type { AgentEvent } from './source.js';

const SCOPE = 'tsbpf-agent';

/** ns since the epoch as OpenTelemetry's HrTime [seconds, nanoseconds]. */
function hrTime(ns: bigint): [number, number] {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

export interface EventExporter {
  export(events: AgentEvent[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function otlpExporter(cfg: OtlpConfig, resource: Record<string, string>): EventExporter {
  const res = resourceFromAttributes({ 'service.name': 'tsbpf-agent', ...resource });
  const base = cfg.endpoint.replace(/\/+$/, '');
  // short batches: an agent's events should reach the collector within a second or two
  const batch = { scheduledDelayMillis: 500, maxExportBatchSize: 512, maxQueueSize: 8192 };
  if (cfg.signal === 'logs') {
    const provider = new LoggerProvider({ resource: res, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs` }), ...batch })] });
    const logger = provider.getLogger(SCOPE);
    return {
      export(events) {
        for (const e of events) {
          logger.emit({
            timestamp: hrTime(e.timeNs),
            severityNumber: SeverityNumber.INFO,
            severityText: 'INFO',
            eventName: e.kind,
            body: e.kind,
            attributes: { 'tsbpf.program': e.program, 'event.name': e.kind, ...e.attributes, ...(e.durationNs ? { 'tsbpf.duration_ns': Number(e.durationNs) } : {}) },
          });
        }
      },
      flush: () => provider.forceFlush(),
      close: () => provider.shutdown(),
    };
  }
  const provider = new BasicTracerProvider({ resource: res, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }), batch)] });
  const tracer = provider.getTracer(SCOPE);
  return {
    export(events) {
      for (const e of events) {
        // the event's end is its time; a span starts its duration earlier
        const span = tracer.startSpan(e.kind, { startTime: hrTime(e.timeNs - e.durationNs), attributes: { 'tsbpf.program': e.program, ...e.attributes } });
        span.end(hrTime(e.timeNs));
      }
    },
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}
