# One image for every role; FLASHWIRE_ROLES picks what a container runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.browser.json ./
COPY config ./config
COPY src ./src
COPY clients/node/src ./clients/node/src
COPY workers ./workers
COPY server ./server
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# The young generation capped at 4 MiB per semi-space, as `npm start` runs it: docs/deploy.md, "Node flags".
CMD ["node", "--max-semi-space-size=4", "dist/server/main.js"]
