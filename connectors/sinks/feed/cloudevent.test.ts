import test from 'ava';
import { CloudEvent, ValidationError } from 'cloudevents';
import type { FeedEvent } from '../../../engine/feed/feed-event.ts';
import { cloudEventJson, toCloudEvent } from './cloudevent.ts';

const event: FeedEvent = {
  specversion: '1.0',
  id: 'audit-people:42',
  type: 'sluice.change.update',
  source: 'sluice/civil/people',
  time: '2026-12-03T08:00:00.123456Z',
  subject: '{"id":"9007199254740993"}',
  datacontenttype: 'application/json',
  data: { op: 'u', key: { id: '9007199254740993' }, after: { id: '9007199254740993', name: '欧***' } },
  sluiceposition: '00000001/00000A00:0000000001',
};

test('a feed event is a valid CloudEvents 1.0 event, µs time and int8 strings kept, position as an extension', (t) => {
  const ce = toCloudEvent(event);
  t.true(ce.validate());
  const json = JSON.parse(cloudEventJson(event)) as Record<string, unknown>;
  t.like(json, {
    specversion: '1.0',
    id: 'audit-people:42',
    type: 'sluice.change.update',
    source: 'sluice/civil/people',
    time: '2026-12-03T08:00:00.123456Z',
    subject: '{"id":"9007199254740993"}',
    datacontenttype: 'application/json',
    sluiceposition: '00000001/00000A00:0000000001',
  });
  t.deepEqual(json.data, event.data);
  // a receiver using the SDK reads it back
  const back = new CloudEvent(json as never, true);
  t.is(back.id, event.id);
  t.is((back as unknown as { sluiceposition: string }).sluiceposition, event.sluiceposition);
});

test('an event the specification refuses is named by the SDK', (t) => {
  t.throws(() => toCloudEvent({ ...event, source: '' }), { instanceOf: ValidationError });
});
