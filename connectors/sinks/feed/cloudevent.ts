import { CloudEvent } from 'cloudevents';
import type { FeedEvent } from '../../../engine/feed/feed-event.ts';

/**
 * A feed event as a CloudEvents 1.0 event of the `cloudevents` SDK (validated against the specification by it,
 * `sluiceposition` as an extension attribute), and its structured JSON form — what NATS messages and webhook
 * requests carry.
 */
export function toCloudEvent(e: FeedEvent): CloudEvent<FeedEvent['data']> {
  const ce = new CloudEvent<FeedEvent['data']>(
    {
      specversion: e.specversion,
      id: e.id,
      type: e.type,
      source: e.source,
      time: e.time,
      ...(e.subject !== undefined ? { subject: e.subject } : {}),
      datacontenttype: e.datacontenttype,
      data: e.data,
      sluiceposition: e.sluiceposition,
    },
    true,
  );
  return ce;
}

/**
 * The structured-mode JSON text of one event (`application/cloudevents+json`), validated by the SDK. The SDK keeps
 * `time` to the millisecond (it goes through a JS Date); the commit time keeps its microseconds here (DESIGN.md).
 */
export function cloudEventJson(e: FeedEvent): string {
  return JSON.stringify({ ...toCloudEvent(e).toJSON(), time: e.time });
}
