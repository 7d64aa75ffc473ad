import test from 'ava';
import { pgArrayToJson } from './pg-array.ts';

test('Postgres array text becomes a JSON array of element texts, NULL as null', (t) => {
  t.is(pgArrayToJson('{}'), '[]');
  t.is(pgArrayToJson('{1,NULL,-3}'), '["1",null,"-3"]');
  t.is(pgArrayToJson('{null,Null}'), '[null,null]', 'unquoted NULL in any case is SQL NULL');
  t.is(pgArrayToJson('{"NULL",""}'), '["NULL",""]', 'quoted NULL and the empty string are values');
  t.is(pgArrayToJson('{"a b","c\\"d","e\\\\f","g,h","{i}"}'), '["a b","c\\"d","e\\\\f","g,h","{i}"]');
  t.is(pgArrayToJson('{长文本,"😀 x"}'), '["长文本","😀 x"]');
  t.is(pgArrayToJson('{"2024-01-01 00:00:00+00",infinity}'), '["2024-01-01 00:00:00+00","infinity"]');
});

test('multi-dimensional arrays become nested lists; explicit bounds are left as they are', (t) => {
  t.is(pgArrayToJson('{{1,2},{3,NULL}}'), '[["1","2"],["3",null]]');
  t.is(pgArrayToJson('{{}}'), '[[]]');
  t.is(pgArrayToJson('[0:1]={7,8}'), '[0:1]={7,8}');
});

test('malformed array text is a SyntaxError naming the text', (t) => {
  for (const bad of ['{1,2', '{"unterminated}', '{1}x', '{1;2}x']) {
    t.throws(() => pgArrayToJson(bad), { instanceOf: SyntaxError }, bad);
  }
});
