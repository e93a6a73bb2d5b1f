/** The print provider: PDF letters and their manifest in the spool folder. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createSpoolPrintProvider, letterId } from '../../../activities/channels/print';
import { type ChannelProvider, type OutboundMessage, PermanentSendError } from '../../../activities/channels/provider';
import type { PostalAddress } from '../../../contract/channels';
import { message, rejectionOf } from '../../support/outbound-messages';
import { tempDir } from '../../support/resources';
import { readSpool } from '../../support/sinks';

describe('createSpoolPrintProvider (PDF letters in the spool folder)', () => {
  const address: PostalAddress = {
    name: 'Ada Lovelace',
    lines: ['Hauptstraße 5', 'Hinterhaus'],
    city: 'Berlin',
    postalCode: '10115',
    country: 'DE',
  };
  const day = new Date('2026-11-22T10:00:00Z');
  let spoolDir: string;
  let clock: Date;
  let print: ChannelProvider;
  beforeEach(async () => {
    spoolDir = await tempDir('spool');
    clock = day;
    print = createSpoolPrintProvider({ spoolDir, now: () => clock });
  });

  const letter = (overrides: Partial<OutboundMessage> = {}) =>
    message({
      channel: 'print',
      to: address.name,
      postalAddress: address,
      subject: 'Your bill B-1',
      text: 'Dear Ada,\n\nyour bill of 12.00 EUR is due on 1 December.\n\nKind regards',
      locale: 'de-DE',
      ...overrides,
    });

  it('writes a PDF into the folder of the day and lists it in the manifest', async () => {
    const msg = letter();
    const receipt = await print.send(msg);
    const id = `LT${createHash('sha256').update(msg.key).digest('hex').slice(0, 24)}`;
    assert.deepEqual(receipt, { provider: 'spool', providerId: id, status: 'sent' });
    assert.equal(letterId(msg.key), id);

    const pdf = await readFile(path.join(spoolDir, '2026-11-22', `${id}.pdf`));
    assert.ok(pdf.length > 1000, `a real PDF, got ${pdf.length} bytes`);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.toString('latin1'), /\/MediaBox \[0 0 595\.28 841\.89\]/, 'A4 for a German address');

    const { letters, manifest } = await readSpool(spoolDir);
    assert.deepEqual(letters, [`2026-11-22/${id}.pdf`]);
    assert.deepEqual(manifest, [
      {
        id,
        file: `${id}.pdf`,
        key: msg.key,
        name: 'Ada Lovelace',
        lines: ['Hauptstraße 5', 'Hinterhaus'],
        city: 'Berlin',
        postalCode: '10115',
        country: 'DE',
        pages: 1,
        createdAt: '2026-11-22T10:00:00.000Z',
      },
    ]);
    assert.deepEqual(
      (await readdir(path.join(spoolDir, '2026-11-22'))).sort(),
      [`${id}.pdf`, 'manifest.jsonl'],
      'no temp files left behind',
    );
  });

  it('does not spool a second letter when the same key is sent again, even after midnight', async () => {
    const msg = letter();
    const first = await print.send(msg);
    const spooled = await readSpool(spoolDir);

    const second = await print.send({ ...msg, text: 'changed text' });
    clock = new Date('2026-11-23T00:05:00Z');
    const third = await print.send(msg);

    assert.equal(second.providerId, first.providerId);
    assert.equal(third.providerId, first.providerId);
    assert.deepEqual(await readSpool(spoolDir), spooled);

    const other = await print.send(letter());
    assert.notEqual(other.providerId, first.providerId);
    const after = await readSpool(spoolDir);
    assert.deepEqual(after.letters, [...spooled.letters, `2026-11-23/${other.providerId}.pdf`]);
    assert.equal(after.manifest.length, 2);
    assert.equal(after.manifest[1]?.createdAt, '2026-11-23T00:05:00.000Z');
  });

  it('restores the manifest line on a retry when it is missing (a crash after writing the PDF)', async () => {
    const msg = letter();
    await print.send(msg);
    const manifestFile = path.join(spoolDir, '2026-11-22', 'manifest.jsonl');
    const original = await readFile(manifestFile, 'utf8');
    await rm(manifestFile);
    await print.send(msg);
    await print.send(msg);
    const restored = (await readFile(manifestFile, 'utf8')).split('\n').filter(Boolean);
    assert.equal(restored.length, 1);
    const { createdAt, ...entry } = JSON.parse(restored[0]!) as Record<string, unknown>;
    const { createdAt: _created, ...expected } = JSON.parse(original) as Record<string, unknown>;
    assert.deepEqual(entry, expected);
    assert.ok(!Number.isNaN(Date.parse(String(createdAt))));
  });

  it('uses US Letter for a US address and counts the pages of a long letter', async () => {
    const us: PostalAddress = {
      name: 'Grace Hopper',
      lines: ['1 Main St'],
      city: 'Arlington',
      region: 'VA',
      postalCode: '22201',
      country: 'US',
    };
    const text = Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1}: ${'lorem ipsum '.repeat(12)}`).join('\n\n');
    const { providerId } = await print.send(letter({ postalAddress: us, to: us.name, text, locale: 'en-US' }));
    const pdf = await readFile(path.join(spoolDir, '2026-11-22', `${providerId}.pdf`), 'latin1');
    assert.match(pdf, /\/MediaBox \[0 0 612 792\]/);
    const [entry] = (await readSpool(spoolDir)).manifest;
    assert.ok((entry?.pages ?? 0) > 2, `several pages expected, got ${entry?.pages}`);
    assert.equal(entry?.region, 'VA');
  });

  it('fails permanently as NoPostalAddress without a complete postal address', async () => {
    for (const postalAddress of [undefined, { ...address, city: '' }, { ...address, lines: [' '] }]) {
      const err = await rejectionOf(print.send(letter({ postalAddress })));
      assert.ok(err instanceof PermanentSendError, String(err));
      assert.equal(err.type, 'NoPostalAddress');
    }
    assert.deepEqual(await readSpool(spoolDir), { letters: [], manifest: [] });
  });
});
