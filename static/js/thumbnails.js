// A JPEG thumbnail of a photo, drawn in the browser before it is uploaded.
//
// createImageBitmap decodes off the main thread and, given resizeWidth or
// resizeHeight, never hands the page a full-size bitmap: a 50 MB photo does
// not freeze the page. imageOrientation "from-image" applies the EXIF
// orientation, so a phone's rotated JPEG comes out upright. At most
// MAX_DECODES decodes run at once, since each holds a decoded image in memory.
const LONGEST_SIDE = 400; // pixels
const QUALITY = 0.82; // JPEG quality
const MAX_DECODES = 2;

let running = 0;
const waiting = [];

async function slot(job) {
  if (running >= MAX_DECODES) {
    await new Promise((resolve) => waiting.push(resolve));
  }
  running += 1;
  try {
    return await job();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

// Resized by the decoder to LONGEST_SIDE on its longer side. A small file
// (SMALL_FILE bytes or less) is decoded whole first: if it is already
// smaller than a thumbnail it is kept as it is, never enlarged.
const SMALL_FILE = 512 * 1024; // bytes

async function decode(file) {
  const orient = { imageOrientation: "from-image" };
  if (file.size <= SMALL_FILE) {
    const whole = await createImageBitmap(file, orient);
    if (Math.max(whole.width, whole.height) <= LONGEST_SIDE) {
      return whole;
    }
    whole.close();
  }
  const wide = await createImageBitmap(file, { ...orient, resizeWidth: LONGEST_SIDE, resizeQuality: "high" });
  if (wide.width >= wide.height) {
    return wide;
  }
  wide.close(); // portrait: resize by height, so the longer side is LONGEST_SIDE
  return createImageBitmap(file, { ...orient, resizeHeight: LONGEST_SIDE, resizeQuality: "high" });
}

function canvasFor(width, height) {
  if (typeof OffscreenCanvas !== "undefined") {
    return new OffscreenCanvas(width, height);
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

async function encode(canvas) {
  if (canvas.convertToBlob) {
    return canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  }
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
}

// A JPEG Blob at most LONGEST_SIDE on its longer side (never enlarged), or
// null when this browser cannot decode the file: then grids show the original.
export function thumbnailMake(file) {
  return slot(async () => {
    let bitmap;
    try {
      bitmap = await decode(file);
    } catch {
      return null;
    }
    try {
      const { width, height } = bitmap;
      const canvas = canvasFor(width, height);
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff"; // JPEG has no transparency
      context.fillRect(0, 0, width, height);
      context.drawImage(bitmap, 0, 0, width, height);
      return await encode(canvas);
    } catch {
      return null;
    } finally {
      bitmap.close();
    }
  });
}
