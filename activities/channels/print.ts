/**
 * Letters as PDF files in a spool folder that a print-and-mail service (or an operator) collects:
 * `<spoolDir>/<YYYY-MM-DD>/<id>.pdf`, one line per letter in the day's `manifest.jsonl`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { type ChannelProvider, type OutboundMessage, PermanentSendError, type ProviderReceipt } from './provider';
import type { PostalAddress } from '../../contract/channels';
import { isCompletePostalAddress, postalAddressLines } from './postal-address';
import { FailureType } from '../../contract/failures';

/** Options of {@link createSpoolPrintProvider}. */
export interface SpoolPrintOptions {
  /** The spool folder; day folders are created inside it. */
  spoolDir: string;
  /** The clock that dates letters and picks the day folder. @default () => new Date() */
  now?: () => Date;
}

/** One line of a day's `manifest.jsonl`: the letter and the address it goes to. */
export interface SpoolManifestEntry extends PostalAddress {
  id: string;
  /** The PDF's file name, relative to the manifest's folder. */
  file: string;
  /** The message key the letter was sent for. */
  key: string;
  pages: number;
  createdAt: string;
}

/** The name of each day folder's manifest: one JSON line ({@link SpoolManifestEntry}) per letter. */
export const MANIFEST_FILE = 'manifest.jsonl';

/** The letter id for a message key: `LT` + the first 24 hex digits of its SHA-256. */
export function letterId(key: string): string {
  return `LT${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** The day folder name (UTC) of `date`, e.g. `2026-11-22`. */
export function spoolDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Creates the spool print provider. Sending the same key again (a retry after a lost acknowledgement) finds
 * the letter already spooled, today or yesterday, and answers with the same id without a second letter.
 */
export function createSpoolPrintProvider(options: SpoolPrintOptions): ChannelProvider {
  const now = options.now ?? (() => new Date());
  return {
    name: 'spool',
    async send(message: OutboundMessage): Promise<ProviderReceipt> {
      const address = message.postalAddress;
      if (!isCompletePostalAddress(address)) {
        throw new PermanentSendError(
          FailureType.NoPostalAddress,
          'The letter has no complete postal address (name, street, city, postal code, country)',
        );
      }
      const id = letterId(message.key);
      const file = `${id}.pdf`;
      const date = now();
      const receipt: ProviderReceipt = { provider: 'spool', providerId: id, status: 'sent' };

      // The send activity retries for at most 30 minutes, so a retry finds its letter today or yesterday.
      const today = spoolDay(date);
      const yesterday = spoolDay(new Date(date.getTime() - 86_400_000));
      for (const day of [today, yesterday]) {
        const existing = path.join(options.spoolDir, day, file);
        if (await exists(existing)) {
          await ensureManifestLine(path.join(options.spoolDir, day), id, async () =>
            manifestEntry(
              id,
              file,
              message.key,
              address,
              countPdfPages(await readFile(existing)),
              (await stat(existing)).mtime,
            ),
          );
          return receipt;
        }
      }

      const dayDir = path.join(options.spoolDir, today);
      await mkdir(dayDir, { recursive: true });
      const { pdf, pages } = await renderLetter(message, address, date);
      const created = await publishOnce(dayDir, file, pdf);
      const entry = manifestEntry(id, file, message.key, address, pages, date);
      if (created) await appendFile(path.join(dayDir, MANIFEST_FILE), `${JSON.stringify(entry)}\n`);
      else await ensureManifestLine(dayDir, id, () => Promise.resolve(entry));
      return receipt;
    },
  };
}

function manifestEntry(
  id: string,
  file: string,
  key: string,
  address: PostalAddress,
  pages: number,
  createdAt: Date,
): SpoolManifestEntry {
  return {
    id,
    file,
    key,
    name: address.name,
    lines: address.lines,
    city: address.city,
    ...(address.region ? { region: address.region } : {}),
    postalCode: address.postalCode,
    country: address.country,
    pages,
    createdAt: createdAt.toISOString(),
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes `data` to `<dir>/<file>` atomically and only if it is not there yet: a hidden temp file, synced,
 * then hard-linked to its name (which fails if the name exists, unlike rename). False when it existed.
 */
async function publishOnce(dir: string, file: string, data: Buffer): Promise<boolean> {
  const target = path.join(dir, file);
  const temp = path.join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: rename, after checking, is still atomic for readers.
    if (await exists(target)) return false;
    await rename(temp, target);
    return true;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Appends the letter's manifest line if a crash after spooling the PDF left it out. */
async function ensureManifestLine(dayDir: string, id: string, entry: () => Promise<SpoolManifestEntry>): Promise<void> {
  const manifest = path.join(dayDir, MANIFEST_FILE);
  let content = '';
  try {
    content = await readFile(manifest, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const listed = content.split('\n').some((line) => {
    try {
      return line !== '' && (JSON.parse(line) as { id?: unknown }).id === id;
    } catch {
      return false;
    }
  });
  if (!listed) await appendFile(manifest, `${JSON.stringify(await entry())}\n`);
}

/** The page count of a PDF written by pdfkit (its page tree's `/Count`). */
function countPdfPages(pdf: Buffer): number {
  const match = /\/Type \/Pages\s*\/Count (\d+)/.exec(pdf.toString('latin1'));
  return match ? Number(match[1]) : 0;
}

const mm = 72 / 25.4;

/** Where the addressee block sits so that it shows through the envelope's window. */
function pageLayout(country: string) {
  return ['US', 'CA'].includes(country.toUpperCase())
    ? // US Letter, tri-folded into a #10 window envelope.
      { size: 'LETTER', address: { x: 72, y: 153 }, margin: 72, foldMarks: [] as number[] }
    : // A4, DIN 5008 form B: address field 20 mm from the left, addressee below the 17.7 mm remark zone at 45 mm;
      // fits DL and C5/6 window envelopes. Fold marks at 105 and 210 mm.
      { size: 'A4', address: { x: 25 * mm, y: 62.7 * mm }, margin: 25 * mm, foldMarks: [105 * mm, 210 * mm] };
}

function letterDate(date: Date, locale: string | undefined): string {
  const options: Intl.DateTimeFormatOptions = { dateStyle: 'long', timeZone: 'UTC' };
  try {
    return new Intl.DateTimeFormat(locale ?? 'en-US', options).format(date);
  } catch {
    return new Intl.DateTimeFormat('en-US', options).format(date);
  }
}

/** Renders the letter: addressee at the window position, the date, the subject as heading, the body. */
async function renderLetter(
  message: OutboundMessage,
  address: PostalAddress,
  date: Date,
): Promise<{ pdf: Buffer; pages: number }> {
  const layout = pageLayout(address.country);
  const doc = new PDFDocument({
    size: layout.size,
    margins: { top: layout.margin, bottom: layout.margin, left: layout.margin, right: 20 * mm },
    bufferPages: true,
    info: { Title: message.subject ?? 'Letter', Producer: 'journey-executor', CreationDate: date },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  doc.font('Helvetica').fontSize(11);
  doc.text(postalAddressLines(address).join('\n'), layout.address.x, layout.address.y, { width: 85 * mm - 5 * mm });
  const afterAddress = doc.y;
  doc.text(letterDate(date, message.locale), doc.page.margins.left, layout.address.y - 4 * 11, {
    width,
    align: 'right',
  });
  doc.x = doc.page.margins.left;
  doc.y = Math.max(afterAddress + 3 * 11, layout.address.y + 45 * mm);
  if (message.subject) {
    doc.font('Helvetica-Bold').fontSize(13).text(message.subject, { width });
    doc.moveDown(1);
  }
  doc.font('Helvetica').fontSize(11).text(message.text, { width, lineGap: 2 });

  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    for (const y of layout.foldMarks) {
      doc
        .moveTo(5 * mm, y)
        .lineTo(10 * mm, y)
        .lineWidth(0.5)
        .stroke('#999999');
    }
    if (range.count > 1) {
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0; // writing inside the bottom margin must not start a new page
      doc
        .font('Helvetica')
        .fontSize(9)
        .fillColor('#555555')
        .text(`${i - range.start + 1} / ${range.count}`, doc.page.margins.left, doc.page.height - bottom / 2, {
          width,
          align: 'right',
          lineBreak: false,
        });
      doc.page.margins.bottom = bottom;
    }
  }
  doc.end();
  await ended;
  return { pdf: Buffer.concat(chunks), pages: range.count };
}
