/** A calibration read back from the store, checked to belong to the judge that will use it. */
import { UsageError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import type { CalibrationModel } from './calibration-model.js';

export interface StoredCalibration {
  name: string;
  judge: string;
  prompt: string;
  method: string;
  model: CalibrationModel;
}

export function storedCalibration(store: Store, name: string, judge: string): StoredCalibration {
  const c = store.getCalibration(name);
  if (!c) throw new UsageError(`No calibration named \`${name}\` in ${store.file} (fit one with \`quorum calibrate --name ${name}\`)`);
  if (c.judge !== judge) throw new UsageError(`Calibration \`${name}\` was fitted for ${c.judge}, not ${judge}: a map from one judge's scores says nothing about another's`);
  return { name, judge: c.judge, prompt: c.prompt, method: c.method, model: c.model as CalibrationModel };
}
