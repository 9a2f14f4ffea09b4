/** Test images of known simulated-judge quality; they ship with the package for `quorum demo`. */
export { makeTestImage, renderTestPixels, type TestImageOptions } from '../../src/demo/test-images.js';
