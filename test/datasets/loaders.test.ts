/**
 * Each loader on a generated miniature of its dataset's label format and folder layout,
 * and every validation problem: missing image files, duplicate names, scores outside the
 * scale, unknown columns, unreadable rows. The rows named are left out, the rest load.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, subset } from '../../src/datasets/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'quorum-datasets-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Writes files (text) and empty image files under a fresh folder. */
async function layout(name: string, files: Record<string, string>, images: readonly string[]): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  for (const image of images) {
    await mkdir(dirname(join(dir, image)), { recursive: true });
    await writeFile(join(dir, image), 'not decoded by loaders');
  }
  return dir;
}

describe('dataset loaders', () => {
  it('KonIQ-10k: MOS 1-5, SD, the official split from the sets file', async () => {
    const dir = await layout(
      'koniq',
      {
        'koniq10k_distributions_sets.csv':
          '"image_name","c1","c2","c3","c4","c5","c_total","MOS","SD","MOS_zscore","set"\n' +
          '"a.jpg",0,1,2,50,47,100,4.43,0.6,80.1,"training"\n"b.jpg",10,20,40,20,10,100,3.0,1.1,50,"test"\n',
      },
      ['1024x768/a.jpg', '1024x768/b.jpg'],
    );
    const ds = await loadDataset(`koniq:${dir}`);
    expect(ds.problems).toEqual([]);
    expect(ds.officialSplits).toBe(true);
    expect(ds.items.map((i) => [i.name, i.raw, i.score, i.std, i.split])).toEqual([
      ['a.jpg', 4.43, 4.43, 0.6, 'train'],
      ['b.jpg', 3, 3, 1.1, 'test'],
    ]);
    expect(ds.items[0]?.path).toBe(join(dir, '1024x768', 'a.jpg'));
  });

  it('SPAQ (CSV export): MOS 0-100 normalised to 1-5, raw kept, seeded split', async () => {
    const dir = await layout(
      'spaq',
      { 'mos.csv': 'Image name,MOS,Brightness,Colorfulness,Contrast,Noisiness,Sharpness\n00001.png,50,1,2,3,4,5\n00002.png,100,1,2,3,4,5\n' },
      ['TestImage/00001.png', 'TestImage/00002.png'],
    );
    const ds = await loadDataset(`spaq:${dir}`);
    expect(ds.problems).toEqual([]);
    expect(ds.items.map((i) => [i.raw, i.score])).toEqual([[50, 3], [100, 5]]);
    expect(ds.officialSplits).toBe(false);
    expect(ds.items.every((i) => i.split === 'train' || i.split === 'test')).toBe(true);
  });

  it('LIVE-Challenge (CSV export of the .mat labels), KADID-10k (variance -> std), AGIQA-3K, AIGIQA-20K, UHD-IQA', async () => {
    const livec = await layout('livec', { 'livec.csv': 'image,mos,std\ntrainingImages/t1.bmp,63.9,18.2\n10.bmp,20,10\n' }, [
      'Images/trainingImages/t1.bmp',
      'Images/10.bmp',
    ]);
    expect((await loadDataset(`livec:${livec}`)).items.map((i) => [i.name, i.score.toFixed(3), i.std])).toEqual([
      ['trainingImages/t1.bmp', '3.556', 18.2],
      ['10.bmp', '1.800', 10],
    ]);
    const kadid = await layout('kadid', { 'dmos.csv': 'dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.57,0.25\n' }, ['images/I01_01_01.png']);
    expect((await loadDataset(`kadid:${kadid}`)).items).toMatchObject([{ raw: 4.57, score: 4.57, std: 0.5, group: 'I01.png' }]);
    const agiqa = await layout(
      'agiqa',
      { 'data.csv': 'name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align\nAttnGAN_normal_000.jpg,"a cat, sitting",,,,2.5,0.8,1.2,0.3\n' },
      ['AttnGAN_normal_000.jpg'],
    );
    expect((await loadDataset(`agiqa3k:${agiqa}`)).items).toMatchObject([{ raw: 2.5, score: 3, std: 0.8 }]);
    const aigi = await layout('aigi', { 'info.csv': 'name,prompt,mos\nDALLE2_0001.png,a dog,5\n' }, ['images/DALLE2_0001.png']);
    expect((await loadDataset(`aigiqa20k:${aigi}`)).items).toMatchObject([{ raw: 5, score: 5 }]);
    const uhd = await layout('uhd', { 'uhd-iqa-metadata.csv': 'image_name,quality_mos,set\n1.jpg,0.75,validation\n' }, ['database/1.jpg']);
    expect((await loadDataset(`uhd-iqa:${uhd}`)).items).toMatchObject([{ raw: 0.75, score: 4, split: 'val' }]);
  });

  it('PIPAL: one label file per reference, Elo normalised over the observed range', async () => {
    const dir = await layout(
      'pipal',
      { 'Train_Label/A0001.txt': 'A0001_00_00.bmp,1000\nA0001_00_01.bmp,1500\n', 'Train_Label/A0002.txt': 'A0002_00_00.bmp,2000\n' },
      ['Train_Dis/A0001_00_00.bmp', 'Train_Dis/A0001_00_01.bmp', 'Train_Dis/A0002_00_00.bmp'],
    );
    const ds = await loadDataset(`pipal:${dir}`);
    expect(ds.scale).toEqual([1000, 2000]);
    expect(ds.items.map((i) => [i.name, i.score, i.group])).toEqual([
      ['A0001_00_00.bmp', 1, 'A0001'],
      ['A0001_00_01.bmp', 3, 'A0001'],
      ['A0002_00_00.bmp', 5, 'A0002'],
    ]);
  });

  it('generic CSV and JSONL: path, score, optional std and split; --scale overrides 1-5', async () => {
    const dir = await layout(
      'generic',
      { 'labels.csv': 'path,score,std,split\nx.png,2,0.5,test\ny.png,4,,train\n', 'labels.jsonl': '{"path":"x.png","score":80}\n\n{"path":"y.png","score":20,"split":"test"}\n' },
      ['x.png', 'y.png'],
    );
    const csv = await loadDataset(`csv:${join(dir, 'labels.csv')}`);
    expect(csv.items.map((i) => [i.score, i.std, i.split])).toEqual([[2, 0.5, 'test'], [4, undefined, 'train']]);
    const jsonl = await loadDataset(`csv:${join(dir, 'labels.jsonl')}`, { scale: [0, 100] });
    expect(jsonl.items.map((i) => [i.raw, i.score])).toEqual([[80, 4.2], [20, 1.8]]);
  });

  it('validation: every problem is one counted line naming the file; the other rows proceed', async () => {
    const dir = await layout(
      'bad',
      {
        'dmos.csv':
          'dist_img,ref_img,dmos,var,rater_notes,extra\n' +
          'ok1.png,r.png,3,0.1,,\nok2.png,r.png,4,0.1,,\n' +
          'ok1.png,r.png,2,0.1,,\n' + // duplicate
          'hi.png,r.png,7.5,0.1,,\nlo.png,r.png,0.2,0.1,,\n' + // outside 1-5
          'gone1.png,r.png,3,0.1,,\ngone2.png,r.png,3,0.1,,\n' + // no file
          'nan.png,r.png,abc,0.1,,\n,r.png,3,0.1,,\n', // unreadable
      },
      ['images/ok1.png', 'images/ok2.png', 'images/hi.png', 'images/lo.png', 'images/nan.png'],
    );
    const ds = await loadDataset(`kadid:${dir}`);
    expect(ds.items.map((i) => i.name)).toEqual(['ok1.png', 'ok2.png']);
    expect(ds.items[0]?.raw).toBe(3);
    const byKind = Object.fromEntries(ds.problems.map((p) => [p.kind, p]));
    expect(byKind['unknown-column']).toMatchObject({ count: 2 });
    expect(byKind['unknown-column']?.message).toMatch(/dmos\.csv: 2 unknown column\(s\), ignored \(rater_notes, extra\)/);
    expect(byKind['duplicate']?.message).toMatch(/1 duplicate name\(s\); the first row of each is used \(ok1\.png\)/);
    expect(byKind['out-of-scale']?.message).toMatch(/2 score\(s\) outside the scale 1-5, left out \(hi\.png: 7\.5, lo\.png: 0\.2\)/);
    expect(byKind['missing-file']?.message).toMatch(/2 image file\(s\) missing from .*images, left out \(gone1\.png, gone2\.png\)/);
    expect(byKind['bad-row']?.message).toMatch(/2 row\(s\) without a name or a numeric score, left out \(line 9: nan\.png, line 10: no name\)/);
  });

  it('a missing label file, a missing score column and an unknown kind are one clear error each', async () => {
    const empty = await layout('empty', {}, ['a.png']);
    await expect(loadDataset(`koniq:${empty}`)).rejects.toThrow(/holds no koniq labels \(looked for koniq10k_distributions_sets\.csv or/);
    const noScore = await layout('noscore', { 'l.csv': 'path,quality\na.png,3\n' }, ['a.png']);
    await expect(loadDataset(`csv:${join(noScore, 'l.csv')}`)).rejects.toThrow(/has no score column \(expected score or mos; found path, quality\)/);
    await expect(loadDataset('tid2013:/x')).rejects.toThrow(/kind one of koniq, spaq, livec, kadid, pipal, agiqa3k, aigiqa20k, uhd-iqa, csv, ladder/);
  });

  it('subsets: --split, seeded --sample (same seed, same items, file order kept), --limit', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `i${String(i).padStart(2, '0')}.png`);
    const dir = await layout('many', { 'l.csv': `path,score\n${names.map((n, i) => `${n},${1 + (i % 5)}`).join('\n')}\n` }, names);
    const ds = await loadDataset(`csv:${join(dir, 'l.csv')}`, { splitSeed: 3 });
    const train = subset(ds, { split: 'train' });
    const test = subset(ds, { split: 'test' });
    expect(train.length + test.length).toBe(40);
    expect(train.length).toBeGreaterThan(10);
    expect(test.length).toBeGreaterThan(10);
    const a = subset(ds, { sample: 7, seed: 5 }).map((i) => i.name);
    expect(a).toEqual(subset(ds, { sample: 7, seed: 5 }).map((i) => i.name));
    expect(a).not.toEqual(subset(ds, { sample: 7, seed: 6 }).map((i) => i.name));
    expect([...a].sort()).toEqual(a);
    expect(subset(ds, { limit: 3 }).map((i) => i.name)).toEqual(names.slice(0, 3));
    expect(() => subset(ds, { split: 'val' })).toThrow(/Expected `split` to be one of (train, test|test, train), got `val`/);
  });
});
