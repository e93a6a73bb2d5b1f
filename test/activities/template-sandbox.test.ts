/**
 * Templates render in worker threads: the two attacks from issue 9 (a 138-character template that builds
 * a 167M-character string, a loop of 25 million) fail only their own render, the process and its event
 * loop carry on, and the sandbox keeps rendering.
 */
import assert from 'node:assert/strict';
import { TemplateRenderError, TemplateSandbox } from '../../activities/template-sandbox';

/** 10 characters doubled 24 times: 167,772,160 characters. */
const doubling =
  '{% capture s %}xxxxxxxxxx{% endcapture %}{% for i in (1..24) %}{% capture s %}{{s}}{{s}}{% endcapture %}{% endfor %}{{ s }}';
const longLoop = '{% for i in (1..25000000) %}{{ i }}{% endfor %}';
const busyLoop = '{% for i in (1..4000) %}{% for j in (1..4000) %}{% if i == j %}{% endif %}{% endfor %}{% endfor %}';

describe('TemplateSandbox', function () {
  this.timeout(60_000);
  const sandbox = new TemplateSandbox({ deadlineMs: 3_000 });
  after(() => sandbox.close());

  it('renders text and escapes the HTML part', async () => {
    const out = await sandbox.render(
      { text: { source: 'Hi {{ name }}' }, html: { source: '<p>{{ name }}</p>', html: true } },
      { name: '<b>Ada</b>' },
    );
    assert.deepEqual(out, { text: 'Hi <b>Ada</b>', html: '<p>&lt;b&gt;Ada&lt;/b&gt;</p>' });
  });

  for (const [name, source] of [
    ['the 138-character doubling template', doubling],
    ['a 25-million-step loop', longLoop],
    ['a 16-million-step busy loop', busyLoop],
  ] as const) {
    it(`fails ${name} alone, without stalling the event loop`, async () => {
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 20);
      const started = Date.now();
      try {
        await assert.rejects(sandbox.render({ text: { source } }, {}), TemplateRenderError);
      } finally {
        clearInterval(ticker);
      }
      const elapsed = Date.now() - started;
      // The event loop kept turning: at least half the 20 ms ticks of the time the render took came.
      assert.ok(ticks >= Math.floor(elapsed / 40), `${ticks} ticks in ${elapsed} ms`);
      assert.deepEqual(await sandbox.render({ text: { source: 'still {{ x }}' } }, { x: 'here' }), {
        text: 'still here',
      });
    });
  }

  it('refuses templates that read files', async () => {
    for (const source of ["{% include 'package.json' %}", "{% render 'package.json' %}", "{% layout 'x' %}y"]) {
      await assert.rejects(sandbox.render({ text: { source } }, {}), /not allowed: templates cannot read files/);
    }
  });

  it("does not count a new thread's start-up in a render's deadline (a busy machine failed sends with it)", async () => {
    // Loading the engines in a thread (ts-node, liquidjs) takes far longer than 50 ms; the render itself does not.
    const strict = new TemplateSandbox({ threads: 1, deadlineMs: 50 });
    try {
      const started = Date.now();
      assert.deepEqual(await strict.render({ text: { source: 'hi {{ n }}' } }, { n: 1 }), { text: 'hi 1' });
      assert.ok(Date.now() - started > 50, 'the thread took longer than the deadline to start');
    } finally {
      await strict.close();
    }
  });

  it('fails a render that outlives the deadline, and goes on with the renders queued behind it', async () => {
    const quick = new TemplateSandbox({ threads: 1, deadlineMs: 300 });
    try {
      const slow = quick.render({ text: { source: busyLoop } }, {});
      const next = quick.render({ text: { source: 'next {{ n }}' } }, { n: 1 });
      await assert.rejects(slow, /longer than 300 ms|render limit/);
      assert.deepEqual(await next, { text: 'next 1' });
    } finally {
      await quick.close();
    }
  });
});
