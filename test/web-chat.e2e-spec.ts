/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { REPO_ROOT, ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI installs Debian's chromium (.ci/run); elsewhere the browser test is skipped, saying why.
const run = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;
if (!existsSync(CHROMIUM) && !process.env.CI) console.warn(`web chat test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

run('the web chat page in headless Chromium', () => {
  let stack: ServiceStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await ServiceStack.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('streams a multi-role answer, and rebuilds the transcript after a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 800 } });
    await page.goto(stack.sessionUrl);
    await page.waitForSelector('#roles input[value="narrator"]');
    for (const id of ['critic', 'narrator']) await page.check(`#roles input[value="${id}"]`);
    await page.click('#open');
    await page.waitForSelector('#text:not([disabled])');
    await page.fill('#text', 'Who is on stage tonight?');
    await page.click('#sendButton');

    // Tokens stream into each role's line; the turn ends after both roles spoke.
    await page.waitForSelector('.msg.end[data-reason]', { timeout: 30_000 });
    const replies = await page.$$eval('.msg.role', (els) =>
      els.map((e) => ({ who: e.querySelector('.who')!.textContent, text: e.querySelector('.text')!.textContent, done: (e as HTMLElement).dataset.done })),
    );
    expect(replies.map((r) => r.who)).toEqual(['Critic', 'Narrator']);
    expect(replies.every((r) => (r.text ?? '').length > 0 && ['stop', 'length'].includes(r.done ?? ''))).toBe(true);
    expect(await page.textContent('.msg.user')).toContain('Who is on stage tonight?');
    await page.screenshot({ path: join(REPO_ROOT, 'test', 'artifacts', 'web-chat.png') });

    // A reload keeps the session and replays it from the event log.
    const before = await page.$$eval('.msg', (els) => els.map((e) => e.textContent));
    const lastSeq = await page.evaluate(() => document.body.dataset.lastSeq);
    await page.reload();
    await page.waitForFunction((seq) => document.body.dataset.lastSeq === seq, lastSeq);
    expect(await page.$$eval('.msg', (els) => els.map((e) => e.textContent))).toEqual(before);
    await page.screenshot({ path: join(REPO_ROOT, 'test', 'artifacts', 'web-chat-after-reload.png') });

    // Someone else picks the same session by its id and sees the whole conversation.
    const sessionId = await page.evaluate(() => document.body.dataset.session!);
    const other = await browser.newPage();
    await other.goto(stack.sessionUrl);
    await other.fill('#joinId', sessionId);
    await other.click('#join');
    await other.waitForFunction((seq) => document.body.dataset.lastSeq === seq, lastSeq);
    expect(await other.$$eval('.msg', (els) => els.map((e) => e.textContent))).toEqual(before);
  });
});
