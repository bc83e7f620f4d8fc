import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { renderTemplate, Template, TemplateError, formatG, sprintf } from '../../src/cli/format/template';

const inspect = {
  Id: 'abc', Name: '/web',
  State: { Status: 'running', Pid: 42, Running: true },
  Config: { Env: ['A=1', 'B=2'], Cmd: ['sh', '-c', 'echo hi'], Labels: { app: 'demo', tr: '1' }, Entrypoint: null },
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } },
};

test('fields and nested fields', () => {
  assert.equal(renderTemplate('{{.State.Status}} {{.State.Pid}}', inspect), 'running 42');
  assert.equal(renderTemplate('{{.Name}}', inspect), '/web');
  assert.equal(renderTemplate('{{.Missing}}', inspect), '<no value>');
  assert.equal(renderTemplate('{{.Config.Cmd}}', inspect), '[sh -c echo hi]');
  assert.equal(renderTemplate('{{.Config.Labels}}', inspect), 'map[app:demo tr:1]');
  assert.equal(renderTemplate('{{.State.Running}}', inspect), 'true');
});

test('json', () => {
  assert.equal(renderTemplate('{{json .Config.Labels}}', inspect), '{"app":"demo","tr":"1"}');
  assert.equal(renderTemplate('{{json .Config.Entrypoint}}', inspect), 'null');
  assert.equal(renderTemplate('{{json .State}}', inspect), '{"Status":"running","Pid":42,"Running":true}');
  assert.equal(renderTemplate('{{json "a<b"}}', {}), '"a<b"');
});

test('range, index, join, variables', () => {
  assert.equal(renderTemplate('{{range .Config.Env}}[{{.}}]{{end}}', inspect), '[A=1][B=2]');
  assert.equal(renderTemplate('{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}', inspect), '0=A=1;1=B=2;');
  assert.equal(renderTemplate('{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}', inspect), 'app:demo tr:1 ');
  assert.equal(renderTemplate('{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', inspect), '172.17.0.2');
  assert.equal(renderTemplate('{{index .Config.Labels "app"}}', inspect), 'demo');
  assert.equal(renderTemplate('{{index .Config.Labels "nope"}}', inspect), '');
  assert.equal(renderTemplate('{{index .Config.Env 1}}', inspect), 'B=2');
  assert.equal(renderTemplate('{{join .Config.Env ","}}', inspect), 'A=1,B=2');
  assert.equal(renderTemplate('{{$n := .Name}}{{$n}}', inspect), '/web');
  assert.equal(renderTemplate('{{range .Config.Env}}{{$.Name}}{{end}}', inspect), '/web/web');
  assert.equal(renderTemplate('{{range .Nope}}x{{else}}empty{{end}}', inspect), 'empty');
});

test('if / else if / else, comparisons, logic', () => {
  assert.equal(renderTemplate('{{if .State.Running}}up{{else}}down{{end}}', inspect), 'up');
  assert.equal(renderTemplate('{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}', inspect), 'r');
  assert.equal(renderTemplate('{{if and .State.Running (gt .State.Pid 10)}}yes{{end}}', inspect), 'yes');
  assert.equal(renderTemplate('{{if not .Config.Entrypoint}}none{{end}}', inspect), 'none');
  assert.equal(renderTemplate('{{if or .Nope .Name}}{{.Name}}{{end}}', inspect), '/web');
  assert.equal(renderTemplate('{{with .State}}{{.Status}}{{end}}', inspect), 'running');
  assert.equal(renderTemplate('{{if ne .Name "/x"}}ok{{end}}', inspect), 'ok');
});

test('pipelines and string functions', () => {
  assert.equal(renderTemplate('{{.Name | upper}}', inspect), '/WEB');
  assert.equal(renderTemplate('{{lower "ABC"}}', {}), 'abc');
  assert.equal(renderTemplate('{{title "hello world"}}', {}), 'Hello World');
  assert.equal(renderTemplate('{{split "a,b" ","}}', {}), '[a b]');
  assert.equal(renderTemplate('{{truncate "abcdef" 3}}', {}), 'abc');
  assert.equal(renderTemplate('{{pad "x" 1 2}}|', {}), ' x  |');
  assert.equal(renderTemplate('{{println .Name}}', inspect), '/web\n');
  assert.equal(renderTemplate('{{printf "%s-%d" .Name .State.Pid}}', inspect), '/web-42');
  assert.equal(renderTemplate('{{len .Config.Env}}', inspect), '2');
  assert.equal(renderTemplate('{{.Config.Env | len}}', inspect), '2');
  assert.equal(renderTemplate('{{(index .Config.Env 0) | printf "%q"}}', inspect), '"A=1"');
});

test('methods with arguments and trim markers', () => {
  const ctx = { Label: (k: string) => ({ a: 'x' } as Record<string, string>)[k] ?? '', Names: () => 'web' };
  assert.equal(renderTemplate('{{.Label "a"}}/{{.Names}}', ctx), 'x/web');
  assert.equal(renderTemplate('a  {{- " b " -}}  c', {}), 'a b c');
  assert.equal(renderTemplate('{{/* comment */}}x', {}), 'x');
  assert.equal(renderTemplate('{{range .}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3]), '1');
  assert.equal(renderTemplate('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}', [1, 2, 3]), '13');
});

test('errors', () => {
  assert.throws(() => new Template('{{.Name'), TemplateError);
  assert.throws(() => new Template('{{nosuchfunc .}}'), /function "nosuchfunc" not defined/);
  assert.throws(() => new Template('{{if .A}}x'), TemplateError);
  assert.throws(() => new Template('{{end}}'), TemplateError);
  // the line of the token at fault, as Go counts it, past text, actions and newlines inside actions
  assert.throws(() => new Template('a\n{{.A}}\n\nb {{nosuchfunc .}}'), /^TemplateError: template: :4: function "nosuchfunc" not defined$/);
  assert.throws(() => new Template('{{if\n.A}}\n{{nosuchfunc}}{{end}}'), /template: :3: function "nosuchfunc"/);
  assert.throws(() => new Template('x\n\n{{.A'), /template: :3: unclosed action/);
  assert.throws(() => new Template('{{.A}}\n{{"abc\n"}}'), /template: :2: unterminated quoted string/);
});

test('number formatting', () => {
  assert.equal(formatG(1.984132, 4), '1.984');
  assert.equal(formatG(2, 4), '2');
  assert.equal(formatG(880, 4), '880');
  assert.equal(formatG(1.5, 3), '1.5');
  assert.equal(sprintf('%.2f%%', 0.1449), '0.14%');
  assert.equal(sprintf('%5s|%-3d|', 'ab', 7), '   ab|7  |');
});
