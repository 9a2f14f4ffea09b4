export {
  PanelDefinition,
  PanelNeuron,
  PanelJudge,
  PanelFusion,
  DEFAULT_ROLES,
  panelByName,
  roleOf,
  type PanelDefinitionInput,
} from './schema.js';
export { runPanel, type PanelRunOptions, type PanelRunResult, type PanelImageResult, type NeuronReview, type PanelMember } from './panel-run.js';
