export {
  PanelDefinition,
  PANEL_FUSIONS,
  PanelFusion,
  PanelName,
  DEFAULT_ROLES,
  panelEntrySchema,
  roleOf,
  type PanelDefinitionInput,
  type PanelNeuron,
} from './schema.js';
export { entropyBits, runPanel, type PanelRunOptions, type PanelRunResult, type PanelImageResult, type NeuronReview, type PanelMember } from './panel-run.js';
