/** The metadata case's result (metadata-case.ts: reading a large PNG's metadata) and its table. */
import { printMarkdownTable } from './markdown-table.ts';

interface MetadataTiming {
  medianMs: number;
  p90Ms: number;
}

export interface MetadataResult {
  family: 'metadata';
  part: 'read';
  fileBytes: number;
  parametersBytes: number;
  withText: MetadataTiming;
  withoutText: MetadataTiming;
}

export function printMetadataResults(metadataReads: readonly MetadataResult[]): void {
  printMarkdownTable(
    ['metadata read (readImageMetadataReport)', 'file MB', 'median ms', 'p90 ms'],
    metadataReads.flatMap((r) => {
      const mb = (r.fileBytes / 1e6).toFixed(1);
      return [
        [`PNG with a ${(r.parametersBytes / 1024).toFixed(0)} KiB parameters chunk`, mb, r.withText.medianMs.toFixed(1), r.withText.p90Ms.toFixed(1)],
        ['the same pixels without text (stealth probe)', mb, r.withoutText.medianMs.toFixed(1), r.withoutText.p90Ms.toFixed(1)],
      ];
    }),
  );
}
