// Data minimisation before upload: find the face in the browser, crop the photo to head and
// shoulders, re-encode it through a canvas (which carries no EXIF, GPS or camera data) and send
// only that. The person sees exactly what will be sent before consenting. If no single face is
// found, they frame it by hand; the whole photo is never sent when a crop is possible.
//
// This minimises what we receive; it is not a security control. The server still strips
// metadata and checks for exactly one face. Without JavaScript the form posts the file as chosen.
//
// Face detection: @vladmandic/human 3.3.6 with only its BlazeFace model, served from our own
// origin (static/proportrait/vendor/human/, licences there). Nothing leaves the browser but the
// form post.

const VENDOR = new URL("./vendor/human/", import.meta.url);
const MAX_SIDE_PIXELS = 1600; // long side sent; the generator renders 1280 px portraits
const DETECT_SIDE_PIXELS = 640; // BlazeFace looks at 256 px anyway
const JPEG_QUALITY = 0.9;
const MIN_FACE_SCORE = 0.5;
// The frame around a face box (BlazeFace: brows to chin), in face heights: room for hair above,
// shoulders below, and the generator's own framing (portrait 4:5 or square) inside it.
const FRAME = { width: 3.6, height: 4.5, above: 1.2 };

const input = document.getElementById("id_photo");
const panel = document.getElementById("crop-panel");
if (input && panel && "createImageBitmap" in window && "DataTransfer" in window) {
  setUp(input, panel);
}

function setUp(input, panel) {
  const form = input.form;
  const submit = form.querySelector("button[type=submit]");
  const submitLabel = submit ? submit.textContent : "";
  const status = panel.querySelector("#crop-status");
  const preview = panel.querySelector("#crop-preview");
  const facts = panel.querySelector("#crop-facts");
  const adjust = panel.querySelector("#crop-adjust");
  const manual = panel.querySelector("#crop-manual");
  const stage = panel.querySelector("#crop-stage");
  const sizeSlider = panel.querySelector("#crop-size");
  const useCrop = panel.querySelector("#crop-use");
  let current = null; // { file, bitmap, rect }
  let previewUrl = null;
  let busy = null;

  // Start loading the detector when the person reaches for the file field, so that it is
  // ready (and warmed up) by the time a photo is chosen. Only the model is fetched, from us.
  for (const intent of ["pointerdown", "focus", "keydown"]) {
    input.addEventListener(
      intent,
      () =>
        loadDetector().then(
          () => (panel.dataset.detector = "ready"),
          () => (panel.dataset.detector = "unavailable"),
        ),
      { once: true },
    );
  }

  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file || file === (current && current.sent)) return;
    busy = prepare(file).finally(() => {
      busy = null;
      setBusy(false);
    });
  });

  form.addEventListener("submit", (event) => {
    // Never post the uncropped photo while the crop is being made.
    if (busy || (current && current.manualPending)) {
      event.preventDefault();
      say(current && current.manualPending ? "Press “Use this crop” first." : "Your photo is still being prepared…");
    }
  });

  adjust.addEventListener("click", () => {
    if (current) openManual(current.rect, "Move the frame or change its size, then press “Use this crop”.");
  });
  useCrop.addEventListener("click", async () => {
    if (!current) return;
    current.manualPending = false;
    manual.hidden = true;
    await send(current.rect, "manual");
  });
  sizeSlider.addEventListener("input", () => {
    if (!current) return;
    const rect = current.rect;
    const { width, height } = current.bitmap;
    const scale = Number(sizeSlider.value) / 100;
    const frameWidth = Math.min(width, height * (FRAME.width / FRAME.height)) * scale;
    const frameHeight = frameWidth * (FRAME.height / FRAME.width);
    const centreX = rect.x + rect.width / 2;
    const centreY = rect.y + rect.height / 2;
    current.rect = clampRect({ x: centreX - frameWidth / 2, y: centreY - frameHeight / 2, width: frameWidth, height: frameHeight }, width, height);
    drawStage();
  });
  setUpDragging();

  function setBusy(on) {
    if (!submit) return;
    submit.disabled = on;
    submit.textContent = on ? "Preparing your photo…" : submitLabel;
  }

  function say(text) {
    status.textContent = text;
  }

  async function prepare(file) {
    // The name the person chose stays on this page (the "still chosen" note after a refusal
    // names it); the file that is sent is called photo.jpg.
    panel.dataset.chosenName = file.name;
    setBusy(true);
    panel.hidden = false;
    manual.hidden = true;
    adjust.hidden = true;
    preview.hidden = true;
    facts.textContent = "";
    say("Finding your face in this browser…");
    let bitmap;
    try {
      // Decoding applies the EXIF orientation, so a sideways phone photo comes out upright.
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      // A format this browser cannot draw (HEIC in most): the server's path, as without JavaScript.
      panel.dataset.state = "unreadable";
      say("This browser cannot open this photo format, so it will be sent as it is. Our server removes its metadata and keeps only what it needs.");
      current = null;
      return;
    }
    current = { file, bitmap, rect: null, sent: null, manualPending: false };
    panel.dataset.originalBytes = String(file.size);
    panel.dataset.originalWidth = String(bitmap.width);
    panel.dataset.originalHeight = String(bitmap.height);

    let faces = [];
    try {
      faces = await detectFaces(bitmap);
    } catch (error) {
      console.warn("face detection unavailable:", error && error.name);
      panel.dataset.state = "detector-unavailable";
      openManual(defaultRect(bitmap), "Automatic framing is not available in this browser. Drag the frame around your head and shoulders, then press “Use this crop”.");
      return;
    }
    panel.dataset.faces = String(faces.length);
    if (faces.length === 1) {
      await send(frameAround(faces[0], bitmap), "automatic");
      adjust.hidden = false;
    } else if (faces.length === 0) {
      openManual(defaultRect(bitmap), "We could not find a face automatically. Drag the frame around your head and shoulders, then press “Use this crop”.");
    } else {
      openManual(frameAround(faces[0], bitmap), "We found more than one face. Frame only yours, then press “Use this crop”.");
    }
  }

  async function detectFaces(bitmap) {
    const started = performance.now();
    const human = await loadDetector();
    panel.dataset.loadMs = String(Math.round(performance.now() - started)); // 0 when preloaded
    panel.dataset.backend = human.tf.getBackend();
    const scale = Math.min(1, DETECT_SIDE_PIXELS / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const detectStarted = performance.now();
    const result = await human.detect(canvas);
    panel.dataset.detectMs = String(Math.round(performance.now() - detectStarted));
    canvas.width = canvas.height = 0;
    return result.face
      .filter((face) => face.score >= MIN_FACE_SCORE)
      .map((face) => {
        const [x, y, width, height] = face.box;
        return { x: x / scale, y: y / scale, width: width / scale, height: height / scale };
      });
  }

  function frameAround(face, bitmap) {
    const frameHeight = face.height * FRAME.height;
    const frameWidth = face.height * FRAME.width;
    const rect = {
      x: face.x + face.width / 2 - frameWidth / 2,
      y: face.y - face.height * FRAME.above,
      width: frameWidth,
      height: frameHeight,
    };
    return clampRect(rect, bitmap.width, bitmap.height);
  }

  function defaultRect(bitmap) {
    const height = Math.min(bitmap.height, (bitmap.width * FRAME.height) / FRAME.width) * 0.8;
    const width = (height * FRAME.width) / FRAME.height;
    return clampRect({ x: (bitmap.width - width) / 2, y: (bitmap.height - height) / 3, width, height }, bitmap.width, bitmap.height);
  }

  async function send(rect, how) {
    current.rect = rect;
    const { bitmap } = current;
    const scale = Math.min(1, MAX_SIDE_PIXELS / Math.max(rect.width, rect.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(rect.width * scale));
    canvas.height = Math.max(1, Math.round(rect.height * scale));
    const context = canvas.getContext("2d");
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, rect.x, rect.y, rect.width, rect.height, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    canvas.width = canvas.height = 0;
    if (!blob) {
      say("Your photo could not be prepared in this browser; it will be sent as it is and checked on our server.");
      return;
    }
    // A neutral name: the original's file name can say who or where, too.
    const cropped = new File([blob], "photo.jpg", { type: "image/jpeg", lastModified: 0 });
    const transfer = new DataTransfer();
    transfer.items.add(cropped);
    input.files = transfer.files;
    current.sent = cropped;

    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(cropped);
    preview.src = previewUrl;
    preview.hidden = false;
    const sentBitmap = await createImageBitmap(cropped);
    panel.dataset.state = how;
    panel.dataset.sentBytes = String(cropped.size);
    panel.dataset.sentWidth = String(sentBitmap.width);
    panel.dataset.sentHeight = String(sentBitmap.height);
    sentBitmap.close();
    const before = `${number(bitmap.width)} × ${number(bitmap.height)} pixels, ${size(current.file.size)}`;
    const after = `${number(panel.dataset.sentWidth)} × ${number(panel.dataset.sentHeight)} pixels, ${size(cropped.size)}`;
    facts.textContent = `We receive ${after}, instead of your whole photo (${before}). No location, camera, date or file name goes with it.`;
    say(how === "automatic" ? "We found your face and kept only your head and shoulders." : "We will use the part you framed.");
  }

  // --- Manual framing: a frame to drag (pointer or arrow keys) and a size slider

  function openManual(rect, message) {
    current.rect = rect;
    current.manualPending = true;
    manual.hidden = false;
    adjust.hidden = true;
    const { width, height } = current.bitmap;
    const largest = Math.min(width, height * (FRAME.width / FRAME.height));
    sizeSlider.value = String(Math.round((rect.width / largest) * 100));
    drawStage();
    say(message);
    stage.focus();
  }

  function stageScale() {
    const available = Math.min(stage.parentElement.clientWidth || 600, 640);
    return available / current.bitmap.width;
  }

  function drawStage() {
    const { bitmap, rect } = current;
    const scale = stageScale();
    stage.width = Math.round(bitmap.width * scale);
    stage.height = Math.round(bitmap.height * scale);
    const context = stage.getContext("2d");
    context.drawImage(bitmap, 0, 0, stage.width, stage.height);
    context.fillStyle = "rgba(0, 0, 0, 0.55)";
    const x = rect.x * scale;
    const y = rect.y * scale;
    const w = rect.width * scale;
    const h = rect.height * scale;
    context.fillRect(0, 0, stage.width, y);
    context.fillRect(0, y + h, stage.width, stage.height - y - h);
    context.fillRect(0, y, x, h);
    context.fillRect(x + w, y, stage.width - x - w, h);
    context.strokeStyle = "#ffffff";
    context.lineWidth = 2;
    context.strokeRect(x + 1, y + 1, w - 2, h - 2);
  }

  function moveBy(dx, dy) {
    const { rect, bitmap } = current;
    current.rect = clampRect({ ...rect, x: rect.x + dx, y: rect.y + dy }, bitmap.width, bitmap.height);
    drawStage();
  }

  function setUpDragging() {
    let last = null;
    stage.addEventListener("pointerdown", (event) => {
      last = { x: event.clientX, y: event.clientY };
      stage.setPointerCapture(event.pointerId);
    });
    stage.addEventListener("pointermove", (event) => {
      if (!last || !current) return;
      const scale = stageScale();
      moveBy((event.clientX - last.x) / scale, (event.clientY - last.y) / scale);
      last = { x: event.clientX, y: event.clientY };
    });
    const stop = () => {
      last = null;
    };
    stage.addEventListener("pointerup", stop);
    stage.addEventListener("pointercancel", stop);
    stage.addEventListener("keydown", (event) => {
      if (!current) return;
      const step = (event.shiftKey ? 0.1 : 0.02) * current.bitmap.width;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[event.key]) {
        event.preventDefault();
        moveBy(...moves[event.key]);
      }
    });
  }
}

let detector = null;

async function loadDetector() {
  if (!detector) {
    detector = (async () => {
      const { Human } = await import(new URL("human.esm.js", VENDOR).href);
      const config = {
        modelBasePath: new URL("models/", VENDOR).href,
        cacheModels: false,
        warmup: "none",
        cacheSensitivity: 0,
        debug: false,
        filter: { enabled: false },
        face: {
          enabled: true,
          detector: { rotation: false, maxDetected: 5, skipFrames: 0, skipTime: 0, minConfidence: 0.3, scale: 1.0, return: false },
          mesh: { enabled: false },
          attention: { enabled: false },
          iris: { enabled: false },
          emotion: { enabled: false },
          description: { enabled: false },
          antispoof: { enabled: false },
          liveness: { enabled: false },
        },
        body: { enabled: false },
        hand: { enabled: false },
        object: { enabled: false },
        gesture: { enabled: false },
        segmentation: { enabled: false },
      };
      // WebGL on a real graphics chip; tfjs's plain JavaScript kernels where WebGL is missing or
      // emulated in software (SwiftShader, llvmpipe), where they are the faster of the two.
      const order = hardwareWebGL() ? ["webgl", "cpu"] : ["cpu"];
      for (const backend of order) {
        try {
          const human = new Human({ ...config, backend });
          await human.load();
          if (human.tf.getBackend() !== backend) continue;
          // One detection on a blank image compiles the kernels before the person's photo.
          const blank = document.createElement("canvas");
          blank.width = blank.height = 64;
          await human.detect(blank);
          return human;
        } catch (error) {
          console.warn(`face detection: ${backend} backend unavailable`);
        }
      }
      throw new Error("no face detection backend");
    })();
    detector.catch(() => {
      detector = null;
    });
  }
  return detector;
}

function hardwareWebGL() {
  try {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) return false;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return !/swiftshader|llvmpipe|software/i.test(renderer);
  } catch {
    return false;
  }
}

function clampRect(rect, width, height) {
  const w = Math.min(rect.width, width);
  const h = Math.min(rect.height, height);
  const x = Math.min(Math.max(0, rect.x), width - w);
  const y = Math.min(Math.max(0, rect.y), height - h);
  return { x, y, width: w, height: h };
}

function number(value) {
  return Number(value).toLocaleString("en-GB");
}

function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} KB`;
}
