# Production image: TypeScript is compiled in a build stage; the runtime stage has Node, production
# dependencies, the compiled JavaScript, and the Lua scripts and migrations it reads at start.
# `npm start` (tsx, no build step) stays the development command.

FROM node:20-slim AS build
WORKDIR /app
# patches/: fixes to dependencies that npm ci applies (postinstall: patch-package)
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev && npm cache clean --force
# dist/redis/scripts.js, dist/db/migrate.js and dist/http/routes/dashboard.js look for lua/,
# migrations/ and dashboard/ next to dist/, the same place relative to dist/ as to src/.
COPY --from=build /app/dist ./dist
COPY lua ./lua
COPY migrations ./migrations
COPY dashboard ./dashboard
USER node
EXPOSE 3000
# exec form: node is PID 1 and receives SIGTERM itself, so a stop drains in-flight requests and jobs.
CMD ["node", "dist/cli.js", "all"]
