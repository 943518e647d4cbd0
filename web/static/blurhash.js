/* BlurHash decoding (the algorithm of https://blurha.sh, MIT licence), for placeholders.
 * window.PixyBlurhash.decode(hash, width, height) gives RGBA pixels (or null for a bad
 * hash); averageColour(hash) gives the CSS colour of its DC component (or "").
 */
(function () {
  "use strict";

  var B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = B83.indexOf(text[i]);
      if (digit < 0) { return -1; }
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(v) {
    var x = v / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  }

  function toSRGB(v) {
    var x = Math.max(0, Math.min(1, v));
    return x <= 0.0031308 ? Math.trunc(x * 12.92 * 255 + 0.5)
      : Math.trunc((1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255 + 0.5);
  }

  function signPow(v, e) { return (v < 0 ? -1 : 1) * Math.pow(Math.abs(v), e); }

  function decodeBlurhash(hash, width, height) {
    if (!hash || hash.length < 6) { return null; }
    var sizeFlag = decode83(hash[0]);
    var numY = Math.floor(sizeFlag / 9) + 1;
    var numX = (sizeFlag % 9) + 1;
    if (sizeFlag < 0 || hash.length !== 4 + 2 * numX * numY) { return null; }
    var maxValue = (decode83(hash[1]) + 1) / 166;
    var colours = [];
    for (var i = 0; i < numX * numY; i++) {
      if (i === 0) {
        var dc = decode83(hash.substring(2, 6));
        colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
      } else {
        var ac = decode83(hash.substring(4 + i * 2, 6 + i * 2));
        colours.push([
          signPow((Math.floor(ac / 361) - 9) / 9, 2) * maxValue,
          signPow((Math.floor(ac / 19) % 19 - 9) / 9, 2) * maxValue,
          signPow((ac % 19 - 9) / 9, 2) * maxValue
        ]);
      }
    }
    var pixels = new Uint8ClampedArray(width * height * 4);
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < numY; j++) {
          for (var k = 0; k < numX; k++) {
            var basis = Math.cos(Math.PI * x * k / width) * Math.cos(Math.PI * y * j / height);
            var c = colours[k + j * numX];
            r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
          }
        }
        var p = 4 * (x + y * width);
        pixels[p] = toSRGB(r); pixels[p + 1] = toSRGB(g); pixels[p + 2] = toSRGB(b); pixels[p + 3] = 255;
      }
    }
    return pixels;
  }

  function averageColour(hash) {
    var dc = hash && hash.length >= 6 ? decode83(hash.substring(2, 6)) : -1;
    return dc < 0 ? "" : "#" + ("00000" + dc.toString(16)).slice(-6);
  }

  window.PixyBlurhash = { decode: decodeBlurhash, averageColour: averageColour };
})();
